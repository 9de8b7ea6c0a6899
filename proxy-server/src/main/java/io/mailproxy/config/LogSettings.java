package io.mailproxy.config;

/**
 * How mailproxy logs: to standard output, or to syslog as HAProxy's {@code log} directive.
 *
 * @param maxPendingLines lines waiting to be written (the writer never blocks an event loop); beyond
 *     this, lines are dropped and counted
 * @param target          where lines go
 * @param address         syslog: a unix datagram socket path ({@code /dev/log}) or {@code host:port} (UDP)
 * @param facility        syslog facility, e.g. {@code local0}
 * @param format          syslog message format
 * @param tag             syslog APP-NAME / TAG
 */
public record LogSettings(int maxPendingLines, Target target, String address, Facility facility, Format format,
                          String tag) {

    /** Where log lines go. */
    public enum Target { STDOUT, SYSLOG }

    /** The syslog message format. */
    public enum Format { RFC5424, RFC3164 }

    /** Syslog facilities with their RFC 5424 codes. */
    public enum Facility {
        KERN(0), USER(1), MAIL(2), DAEMON(3), AUTH(4), SYSLOG(5), LPR(6), NEWS(7), UUCP(8), CRON(9), AUTHPRIV(10),
        FTP(11), LOCAL0(16), LOCAL1(17), LOCAL2(18), LOCAL3(19), LOCAL4(20), LOCAL5(21), LOCAL6(22), LOCAL7(23);

        private final int code;

        Facility(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }
    }

    public LogSettings {
        if (maxPendingLines < 1) {
            throw new IllegalArgumentException("max-pending-lines must be at least 1");
        }
        if (tag.isEmpty() || tag.length() > 48 || !tag.chars().allMatch(c -> c > 32 && c < 127)) {
            throw new IllegalArgumentException("tag must be 1 to 48 printable ASCII characters without spaces");
        }
    }

    /** {@code mailproxy.log}. */
    static LogSettings read(ConfigReader r) {
        int max = r.intIn("max-pending-lines", 1, 10_000_000);
        Target target = r.enumValue("target", Target.class);
        String address = r.parsed("address", text -> {
            if (!text.startsWith("/")) {
                HostPort.parse(text);
            }
            return text;
        });
        return new LogSettings(max, target, address, r.enumValue("facility", Facility.class),
                r.enumValue("format", Format.class), r.string("tag"));
    }
}
