package io.mailproxy.config;

/** How a frontend speaks TLS to its clients. */
public enum TlsMode {
    /** Plaintext. */
    NONE,
    /** TLS from the first byte (IMAPS 993, POP3S 995). */
    IMPLICIT,
    /**
     * Plaintext until the client upgrades: mailproxy greets and answers the commands before TLS
     * itself (IMAP STARTTLS, POP3 STLS, LMTP STARTTLS), refuses everything else, and connects a
     * server only once TLS is up.
     */
    STARTTLS,
    /** As {@link #STARTTLS}, but a client may also stay in plaintext: its session is then relayed as it is. */
    STARTTLS_OPTIONAL;

    /** Whether clients may upgrade with STARTTLS (or STLS). */
    public boolean startTls() {
        return this == STARTTLS || this == STARTTLS_OPTIONAL;
    }
}
