package io.mailproxy.mail;

import java.nio.charset.StandardCharsets;

/**
 * The mail protocols a frontend speaks, with what mailproxy itself may say in each.
 *
 * <p>mailproxy never answers on a backend's behalf; the only bytes it writes to a client are the
 * protocol's own "service unavailable" reply just before it closes a session that no backend took.
 */
public enum MailProtocol {
    /** RFC 9051 7.1.5 and RFC 5530 UNAVAILABLE: the client may retry later. */
    IMAP("imap", "* BYE [UNAVAILABLE] Service temporarily unavailable, try again later\r\n",
            "* BYE [UNAVAILABLE] Server busy, try again later\r\n"),
    /** RFC 2449 / RFC 3206: SYS/TEMP marks a temporary system error. */
    POP3("pop3", "-ERR [SYS/TEMP] Service temporarily unavailable, try again later\r\n",
            "-ERR [SYS/TEMP] Server busy, try again later\r\n"),
    /**
     * RFC 5321 421 with RFC 3463 enhanced codes: 4.3.0 (other or undefined mail system status) when
     * no server could be reached, 4.3.2 (system not accepting network messages) when a limit refuses.
     */
    LMTP("lmtp", "421 4.3.0 Service temporarily unavailable, try again later\r\n",
            "421 4.3.2 Server busy, try again later\r\n");

    private final String configName;
    private final byte[] unavailable;
    private final byte[] busy;

    MailProtocol(String configName, String unavailable, String busy) {
        this.configName = configName;
        this.unavailable = unavailable.getBytes(StandardCharsets.US_ASCII);
        this.busy = busy.getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * The reply written before closing a session that a limit refused: a full queue, a queue
     * timeout, the per-source rate limit.
     */
    public byte[] busyReply() {
        return busy.clone();
    }

    /** The name used in the configuration, in ALPN (RFC 7301 registry) and in Dovecot's ALPN check. */
    public String configName() {
        return configName;
    }

    /** The reply written before closing a session that no backend could take. */
    public byte[] unavailableReply() {
        return unavailable.clone();
    }
}
