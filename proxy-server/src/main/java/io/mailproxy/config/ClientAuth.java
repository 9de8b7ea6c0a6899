package io.mailproxy.config;

/** Whether a frontend asks its clients for a certificate ({@code tls.client-auth}). */
public enum ClientAuth {
    /** No certificate is asked for. */
    NONE,
    /** A certificate is asked for; a client without one is let in, one with a certificate the CA did not sign is not. */
    OPTIONAL,
    /** A client without a certificate signed by the CA is refused in the handshake. */
    REQUIRED
}
