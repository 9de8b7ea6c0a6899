package io.mailproxy.checks;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What to check on one server and how. Build one with {@link #of} and the {@code with...} methods.
 *
 * @param type               the protocol spoken
 * @param target             where to connect: the traffic address, or a dedicated check port/address;
 *                           must be resolved (name resolution belongs to configuration, not to the
 *                           event loop)
 * @param tls                whether and when TLS starts, and whom it trusts (by default any
 *                           certificate, since the check tests liveness, not identity)
 * @param sendProxy          the PROXY header sent first, before TLS
 * @param timeout            bounds the whole check: connect, TLS handshake and conversation
 * @param expectCapabilities tokens that must be announced, compared case-insensitively: IMAP
 *                           {@code CAPABILITY} tokens (untagged reply or greeting code), POP3
 *                           {@code CAPA} keywords, SMTP/LMTP {@code EHLO}/{@code LHLO} keywords;
 *                           ignored by {@code tcp} checks
 * @param heloName           the name sent in {@code EHLO}/{@code LHLO}
 */
public record CheckSpec(CheckType type, InetSocketAddress target, CheckTls tls, CheckProxyHeader sendProxy,
                        Duration timeout, List<String> expectCapabilities, String heloName) {

    /**
     * Default {@link #timeout}. HAProxy bounds a check by {@code inter} (2s by default) when
     * {@code timeout check} is unset; we use the same 2s. A dead server is then detected as fast
     * as HAProxy detects it and a check never outlives the default interval.
     */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);

    /** Default {@link #heloName}: HAProxy's {@code smtpchk} default ({@code HELO localhost}). */
    public static final String DEFAULT_HELO_NAME = "localhost";

    /** Validates and copies. */
    public CheckSpec {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(sendProxy, "sendProxy");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(heloName, "heloName");
        if (target.isUnresolved()) {
            throw new IllegalArgumentException("target (" + target + ") must be a resolved address");
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout (" + timeout + ") must be positive");
        }
        if (tls.mode() == CheckTls.Mode.STARTTLS && type == CheckType.TCP) {
            throw new IllegalArgumentException("a tcp check has no conversation to start TLS in: use implicit TLS");
        }
        if (heloName.isEmpty() || !heloName.chars().allMatch(c -> c > 0x20 && c < 0x7F)) {
            throw new IllegalArgumentException("heloName (" + heloName + ") must be one printable ASCII word");
        }
        expectCapabilities = List.copyOf(expectCapabilities);
        for (String capability : expectCapabilities) {
            if (capability.isEmpty() || !capability.chars().allMatch(c -> c > 0x20 && c < 0x7F)) {
                throw new IllegalArgumentException("capability (" + capability + ") must be one printable ASCII word");
            }
        }
    }

    /** A check with the defaults: no TLS, a v2 LOCAL header, {@link #DEFAULT_TIMEOUT}, nothing required. */
    public static CheckSpec of(CheckType type, InetSocketAddress target) {
        return new CheckSpec(type, target, CheckTls.NONE, CheckProxyHeader.LOCAL, DEFAULT_TIMEOUT, List.of(),
                DEFAULT_HELO_NAME);
    }

    /** This spec with implicit TLS (any certificate accepted) on or off. */
    public CheckSpec withTls(boolean on) {
        return withTls(on ? CheckTls.IMPLICIT : CheckTls.NONE);
    }

    /** This spec with {@code newTls}. */
    public CheckSpec withTls(CheckTls newTls) {
        return new CheckSpec(type, target, newTls, sendProxy, timeout, expectCapabilities, heloName);
    }

    /** This spec with another PROXY header choice. */
    public CheckSpec withSendProxy(CheckProxyHeader header) {
        return new CheckSpec(type, target, tls, header, timeout, expectCapabilities, heloName);
    }

    /** This spec with another timeout. */
    public CheckSpec withTimeout(Duration newTimeout) {
        return new CheckSpec(type, target, tls, sendProxy, newTimeout, expectCapabilities, heloName);
    }

    /** This spec requiring these capabilities. */
    public CheckSpec withExpectCapabilities(List<String> capabilities) {
        return new CheckSpec(type, target, tls, sendProxy, timeout, capabilities, heloName);
    }

    /** This spec with another {@code EHLO}/{@code LHLO} name. */
    public CheckSpec withHeloName(String name) {
        return new CheckSpec(type, target, tls, sendProxy, timeout, expectCapabilities, name);
    }
}
