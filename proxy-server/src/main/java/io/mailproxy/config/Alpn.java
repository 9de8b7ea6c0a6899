package io.mailproxy.config;

/**
 * What a TLS frontend does with ALPN (RFC 7301, {@code tls.alpn}). Mail clients rarely offer it;
 * the names registered for mail are {@code imap} and {@code pop3}.
 */
public enum Alpn {
    /**
     * The frontend's protocol name ({@code imap}, {@code pop3}, {@code lmtp}) is selected when the
     * client offers it; a client offering only other names negotiates none and goes on.
     */
    PROTOCOL,
    /** No ALPN: whatever the client offers, nothing is selected. */
    NONE
}
