package io.mailproxy.config;

import io.mailproxy.checks.CheckProxyHeader;
import io.mailproxy.checks.CheckSchedule;
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
 * @param tls                implicit TLS from the first byte
 * @param startUp            the state before the first result: UP (HAProxy's) or DOWN
 * @param port               the port to check instead of each server's own, or null
 * @param address            the host to check instead of each server's own, or null
 * @param expectCapabilities capabilities the server must announce
 * @param heloName           the {@code EHLO}/{@code LHLO} name
 * @param observe            sessions' connection failures count against the server (HAProxy's {@code observe layer4})
 * @param errorLimit         consecutive observed failures that count as one failed check
 */
public record HealthCheckSettings(Type type, Duration interval, Duration fastInterval, Duration downInterval,
                                  int rise, int fall, Duration timeout, CheckProxyHeader sendProxy, boolean tls,
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
