package io.mailproxy.starttls;

/**
 * What the {@link PreTlsHandler} tells its session. Calls come on the client's event loop.
 */
public interface PreTlsListener {

    /**
     * The client sent STARTTLS (STLS) and read its go-ahead; the TLS handlers are in place and the
     * handshake is next.
     *
     * @param discardedBytes bytes the client sent after the command, dropped unread (the
     *                       CVE-2011-0411 class: commands slipped in before the handshake must
     *                       never be taken as having come through TLS)
     */
    void upgrading(int discardedBytes);

    /**
     * {@code starttls-optional}: the client goes on in plaintext. The bytes from its command on
     * follow this call down the pipeline and go to a server as they are.
     *
     * @param serverPreamble  what the server must be sent first (LMTP: the client's LHLO), or null
     * @param repliesToDrop   how many replies to the preamble are not passed on (the client had mailproxy's)
     */
    void stayingPlaintext(String serverPreamble, int repliesToDrop);

    /** The client said goodbye (LOGOUT, QUIT); the session ends once the reply is out. */
    void loggedOut();

    /** The client broke a bound of the dialogue ({@code why}); the session ends once the goodbye is out. */
    void violated(String why);

    /** A command was refused ({@code verb}); for the session's log line. */
    void refused(String verb);
}
