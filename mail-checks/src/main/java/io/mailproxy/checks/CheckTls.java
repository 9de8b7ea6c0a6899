package io.mailproxy.checks;

import io.netty.handler.ssl.SslContext;
import java.util.Objects;

/**
 * How a check speaks TLS, and whom it trusts.
 *
 * @param mode       none, implicit TLS from the first byte, or STARTTLS (STLS for POP3) after the greeting
 * @param context    the client TLS context to use (its trust decides what certificates pass), or
 *                   null for the checker's own, which accepts any certificate: a check asks
 *                   whether a server is alive, not who it is, unless told otherwise
 * @param serverName with a {@code context}: the name sent as SNI (and checked, when the context
 *                   verifies host names), or null for none. Without one the target's host string
 *                   is sent, as before
 */
public record CheckTls(Mode mode, SslContext context, String serverName) {

    /** When TLS starts. */
    public enum Mode {
        /** Plaintext. */
        NONE,
        /** TLS from the first byte (after the PROXY header), e.g. port 993. */
        IMPLICIT,
        /**
         * Plaintext greeting, then {@code STARTTLS} (IMAP, LMTP after LHLO, SMTP after EHLO) or
         * {@code STLS} (POP3), then TLS, then the conversation as usual.
         */
        STARTTLS
    }

    /** No TLS. */
    public static final CheckTls NONE = new CheckTls(Mode.NONE, null, null);
    /** Implicit TLS, any certificate accepted. */
    public static final CheckTls IMPLICIT = new CheckTls(Mode.IMPLICIT, null, null);
    /** STARTTLS, any certificate accepted. */
    public static final CheckTls STARTTLS = new CheckTls(Mode.STARTTLS, null, null);

    public CheckTls {
        Objects.requireNonNull(mode, "mode");
        if (mode == Mode.NONE && context != null) {
            throw new IllegalArgumentException("a TLS context without TLS");
        }
    }

    /** This mode with {@code context} deciding whom to trust and {@code serverName} as SNI. */
    public CheckTls trusting(SslContext context, String serverName) {
        return new CheckTls(mode, Objects.requireNonNull(context, "context"), serverName);
    }

    /** Whether the check speaks TLS at all. */
    public boolean enabled() {
        return mode != Mode.NONE;
    }
}
