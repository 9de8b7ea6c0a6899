package io.mailproxy.config;

import io.mailproxy.checks.CheckProxyHeader;
import io.mailproxy.checks.CheckSchedule;
import io.mailproxy.checks.CheckTls;
import io.mailproxy.checks.CheckType;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A backend's {@code health-check} section: how each of its servers is checked, with HAProxy's
 * {@code check inter fastinter downinter rise fall} meanings.
 *
 * @param type               the protocol spoken, or {@link Type#NONE} for no checks (servers always UP)
 * @param interval           between checks of a steadily UP server ({@code inter})
 * @param fastInterval       while a server is changing state ({@code fastinter})
 * @param downInterval       while a server is steadily DOWN ({@code downinter})
 * @param rise               consecutive passes that bring a DOWN server UP
 * @param fall               consecutive failures that take an UP server DOWN
 * @param timeout            bounds one check: connect, TLS and conversation
 * @param sendProxy          the PROXY header the check sends first
 * @param tls                none, implicit TLS from the first byte, or STARTTLS after the greeting
 * @param startUp            the state before the first result: UP (HAProxy's) or DOWN
 * @param port               the port to check instead of each server's own, or null
 * @param address            the host to check instead of each server's own, or null
 * @param expectCapabilities capabilities the server must announce
 * @param heloName           the {@code EHLO}/{@code LHLO} name
 * @param observe            sessions' connection failures count against the server (HAProxy's {@code observe layer4})
 * @param errorLimit         consecutive observed failures that count as one failed check
 */
public record HealthCheckSettings(Type type, Duration interval, Duration fastInterval, Duration downInterval,
                                  int rise, int fall, Duration timeout, CheckProxyHeader sendProxy, CheckTls.Mode tls,
                                  boolean startUp, Integer port, String address, List<String> expectCapabilities,
                                  String heloName, boolean observe, int errorLimit) {

    /** The check's protocol; {@link #NONE} turns checks off. */
    public enum Type {
        NONE(null),
        TCP(CheckType.TCP),
        IMAP(CheckType.IMAP),
        POP3(CheckType.POP3),
        LMTP(CheckType.LMTP),
        SMTP(CheckType.SMTP);

        private final CheckType checkType;

        Type(CheckType checkType) {
            this.checkType = checkType;
        }

        /** The mail-checks type; null for {@link #NONE}. */
        public CheckType checkType() {
            return checkType;
        }
    }

    /** Validates and copies. */
    public HealthCheckSettings {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(sendProxy, "sendProxy");
        Objects.requireNonNull(tls, "tls");
        if (tls == CheckTls.Mode.STARTTLS && type == Type.TCP) {
            throw new IllegalArgumentException("tls = starttls needs a check that speaks a mail protocol (imap, pop3, lmtp, smtp)");
        }
        Objects.requireNonNull(heloName, "heloName");
        expectCapabilities = List.copyOf(expectCapabilities);
        if (port != null && (port < 1 || port > 65535)) {
            throw new IllegalArgumentException("port " + port + " is not within 1..65535");
        }
        if (address != null && address.isEmpty()) {
            throw new IllegalArgumentException("address is empty");
        }
        if (errorLimit < 1) {
            throw new IllegalArgumentException("error-limit must be at least 1");
        }
        if (rise < 1 || fall < 1) {
            throw new IllegalArgumentException("rise and fall must be at least 1");
        }
    }

    /** A backend's {@code health-check} section. */
    static HealthCheckSettings read(ConfigReader r) {
        Type type = r.enumValue("type", Type.class);
        Duration interval = r.duration("interval");
        Duration fastInterval = r.duration("fast-interval");
        Duration downInterval = r.duration("down-interval");
        int rise = r.intIn("rise", 1, 100);
        int fall = r.intIn("fall", 1, 100);
        Duration timeout = r.duration("timeout");
        CheckProxyHeader sendProxy = r.enumValue("send-proxy", CheckProxyHeader.class);
        CheckTls.Mode tls = r.parsed("tls", HealthCheckSettings::tlsMode);
        if (tls == CheckTls.Mode.STARTTLS && type == Type.TCP) {
            r.problem("tls", "a tcp check has no conversation to start TLS in: use implicit");
        }
        boolean startUp = r.enumValue("start", InitialState.class) == InitialState.UP;
        Integer port = r.optionalIntIn("port", 1, 65535);
        String address = r.optionalParsed("address", HealthCheckSettings::host);
        List<String> capabilities = r.strings("expect-capabilities",
                s -> word(s, "\"" + s + "\" is not one capability word like \"IMAP4rev1\""));
        String heloName = r.parsed("helo-name",
                s -> word(s, "\"" + s + "\" is not one printable word like \"mailproxy.example.com\""));
        boolean observe = r.enumValue("observe", Observe.class) == Observe.LAYER4;
        int errorLimit = r.intIn("error-limit", 1, 1000);
        return new HealthCheckSettings(type, interval, fastInterval, downInterval, rise, fall, timeout, sendProxy, tls,
                startUp, port, address, capabilities, heloName, observe, errorLimit);
    }

    /** {@code none}, {@code implicit} or {@code starttls}; {@code true} and {@code false}, the key's first spellings, still mean implicit and none. */
    private static CheckTls.Mode tlsMode(String text) {
        return switch (text.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "none", "false" -> CheckTls.Mode.NONE;
            case "implicit", "true" -> CheckTls.Mode.IMPLICIT;
            case "starttls" -> CheckTls.Mode.STARTTLS;
            default -> throw new IllegalArgumentException("\"" + text + "\" is not one of none | implicit | starttls");
        };
    }

    /** {@code health-check.start}. */
    private enum InitialState { UP, DOWN }

    /** {@code health-check.observe}. */
    private enum Observe { NONE, LAYER4 }

    /** A host without port; "[::1]" as in server addresses, the brackets not part of the host. */
    private static String host(String text) {
        String s = text.trim();
        s = s.startsWith("[") && s.endsWith("]") ? s.substring(1, s.length() - 1) : s;
        if (s.isEmpty() || !isWord(s)) {
            throw new IllegalArgumentException(
                    "expected a host name or IP address without port, e.g. \"10.0.0.5\" (the port goes in `port`)");
        }
        return s;
    }

    /** What SMTP and IMAP accept as one token: printable ASCII without spaces. */
    private static String word(String s, String message) {
        if (!isWord(s)) {
            throw new IllegalArgumentException(message);
        }
        return s;
    }

    private static boolean isWord(String s) {
        return !s.isEmpty() && s.chars().allMatch(ch -> ch > 0x20 && ch < 0x7F);
    }

    /** Whether the servers are checked at all. */
    public boolean enabled() {
        return type != Type.NONE;
    }

    /** The schedule for the state machine; the jitter is mail-checks' default (HAProxy's spread-checks). */
    public CheckSchedule schedule() {
        return new CheckSchedule(interval, fastInterval, downInterval, rise, fall, startUp,
                CheckSchedule.DEFAULT_SPREAD_PERCENT);
    }
}
