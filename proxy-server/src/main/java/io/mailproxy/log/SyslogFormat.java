package io.mailproxy.log;

import io.mailproxy.config.LogSettings;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/**
 * A log record as a syslog message, HAProxy's {@code log ... format rfc5424|rfc3164}:
 * <pre>
 * rfc5424: &lt;134&gt;1 2026-11-30T05:30:00.123+00:00 host mailproxy 4242 - - MSG
 * rfc3164: &lt;134&gt;Nov 30 05:30:00 host mailproxy[4242]: MSG
 * </pre>
 * The priority is the facility times 8 plus the severity from the record's level (SEVERE err,
 * WARNING warning, INFO info, finer debug). MSG is the session line itself for session lines (so
 * HAProxy's log parsers read it as they read HAProxy's), else {@code logger: message}.
 */
final class SyslogFormat extends Formatter {

    private static final DateTimeFormatter RFC5424_TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", Locale.ROOT).withZone(ZoneId.systemDefault());
    private static final DateTimeFormatter RFC3164_TIME =
            DateTimeFormatter.ofPattern("MMM ppd HH:mm:ss", Locale.ROOT).withZone(ZoneId.systemDefault());

    private final LogSettings settings;
    private final String host;
    private final long pid = ProcessHandle.current().pid();

    SyslogFormat(LogSettings settings) {
        this.settings = settings;
        String h;
        try {
            h = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            h = "localhost";
        }
        int dot = h.indexOf('.');
        this.host = dot > 0 ? h.substring(0, dot) : h;
    }

    static int severity(Level level) {
        int v = level.intValue();
        if (v >= Level.SEVERE.intValue()) {
            return 3;
        }
        if (v >= Level.WARNING.intValue()) {
            return 4;
        }
        if (v >= Level.INFO.intValue()) {
            return 6;
        }
        return 7;
    }

    @Override
    public String format(LogRecord r) {
        int pri = settings.facility().code() * 8 + severity(r.getLevel());
        Instant at = Instant.ofEpochMilli(r.getMillis());
        String logger = r.getLoggerName();
        StringBuilder msg = new StringBuilder(200);
        if (!SessionLog.LOGGER.getName().equals(logger)) {
            msg.append(logger == null ? "-" : logger.startsWith("io.mailproxy.") ? logger.substring(logger.lastIndexOf('.') + 1)
                    : logger).append(": ");
        }
        msg.append(formatMessage(r));
        if (r.getThrown() != null) {
            msg.append(": ").append(r.getThrown());
        }
        // one datagram, one line: a line break from a message never splits it
        String text = msg.toString().replace('\n', ' ').replace('\r', ' ');
        if (settings.format() == LogSettings.Format.RFC5424) {
            return "<" + pri + ">1 " + RFC5424_TIME.format(at) + " " + host + " " + settings.tag() + " " + pid + " - - " + text;
        }
        return "<" + pri + ">" + RFC3164_TIME.format(at) + " " + host + " " + settings.tag() + "[" + pid + "]: " + text;
    }
}
