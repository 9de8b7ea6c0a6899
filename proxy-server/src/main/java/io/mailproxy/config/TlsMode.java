package io.mailproxy.config;

/** How a frontend speaks TLS to its clients. */
public enum TlsMode {
    /** Plaintext. */
    NONE,
    /** TLS from the first byte (IMAPS, POP3S). */
    IMPLICIT
}
