package io.mailproxy.log;

/**
 * How a session ended, in HAProxy's two-character termination state (first: who or what ended it;
 * second: the phase it was in) plus a short reason code that logs, statistics and tests use.
 *
 * <p>The phase characters are HAProxy's: {@code R} before a server was asked for (PROXY header,
 * TLS handshake), {@code Q} waiting in the queue, {@code C} connecting (and waiting for the
 * server's greeting), {@code D} relaying, {@code -} normal. A state written with {@code ?} takes
 * the phase the session was in when it ended.
 */
public enum Termination {
    /** The client closed, or the server closed after its goodbye, or after the client's FIN. */
    NORMAL("--", "ok"),
    /** The client reset or broke the connection while data flowed. */
    CLIENT_ABORT("CD", "client-abort"),
    /**
     * The server closed or reset the session without its protocol's goodbye (IMAP {@code * BYE},
     * POP3's reply to QUIT, LMTP's 221 or 421): e.g. a Dovecot killed or crashed.
     */
    SERVER_ABORT("SD", "server-abort"),
    /**
     * An LMTP server closed the session after the client's end of DATA and before its replies:
     * whether the message was delivered is unknown (the client will retry, which may duplicate it).
     */
    SERVER_ABORT_IN_TRANSACTION("SD", "server-abort-in-transaction"),
    /** No byte in either direction for the idle timeout. */
    IDLE_TIMEOUT("cD", "idle-timeout"),
    /** The client read nothing of what waited for it for the idle timeout: closed without a flush. */
    CLIENT_STALLED("cD", "client-stalled"),
    /** The server read nothing of what waited for it for the idle timeout: closed without a flush. */
    SERVER_STALLED("sD", "server-stalled"),
    /** The client half-closed and then the session stayed silent for {@code timeout.server-fin}. */
    SERVER_FIN_TIMEOUT("sD", "server-fin-timeout"),
    /** The session was closing and the client took nothing of what was left for {@code timeout.client-fin}. */
    CLIENT_FIN_TIMEOUT("cD", "client-fin-timeout"),
    /** The client left while its server was being connected. */
    CLIENT_GONE_BEFORE_CONNECT("CC", "client-gone"),
    /** No server could be connected: every attempt was refused or reset, or no server is usable. */
    NO_SERVER("SC", "no-server"),
    /** The last connection attempt did not complete within {@code timeout.connect}. */
    CONNECT_TIMEOUT("sC", "connect-timeout"),
    /** The last server accepted but sent no greeting within {@code timeout.server-greeting}. */
    GREETING_TIMEOUT("sC", "greeting-timeout"),
    /** The client's TLS handshake failed or the client closed during it; no server was contacted. */
    TLS_HANDSHAKE_FAILED("CR", "tls-handshake"),
    /** No complete TLS handshake within {@code tls.handshake-timeout} of the accept (of the STARTTLS command). */
    TLS_TIMEOUT("cR", "tls-timeout"),
    /** A TLS client started a renegotiation (a second handshake), which mailproxy refuses on every engine. */
    TLS_RENEGOTIATION("C?", "tls-renegotiation"),
    /**
     * A STARTTLS frontend: the client did not send STARTTLS (nor, with {@code starttls-optional}, a
     * command for a server) within {@code tls.starttls.timeout} of the accept.
     */
    STARTTLS_TIMEOUT("cR", "starttls-timeout"),
    /**
     * A STARTTLS frontend: the client broke a bound of the plaintext dialogue (a command line too
     * long, too many commands or refused commands) and read the protocol's goodbye.
     */
    STARTTLS_VIOLATION("PR", "starttls-violation"),
    /** A STARTTLS frontend: the client closed before STARTTLS without saying goodbye (LOGOUT, QUIT). */
    CLIENT_GONE_BEFORE_TLS("CR", "client-gone-before-tls"),
    /**
     * The server's health check marked it DOWN and the backend's {@code on-marked-down} is
     * {@code shutdown-sessions}: HAProxy's 'D' ("killed because the server was detected as down").
     */
    SERVER_DOWN("D?", "server-down"),
    /** An admin ended the session ({@code shutdown sessions server}, the stats page's Kill Sessions): HAProxy's K. */
    KILLED("K?", "killed"),
    /** A frontend with accept-proxy: the peer is outside the trusted networks; closed before any byte was read. */
    UNTRUSTED_PEER("PR", "untrusted-peer"),
    /** A frontend with accept-proxy: no complete PROXY header within the timeout (PRX_TIMEOUT). */
    PROXY_TIMEOUT("cR", "proxy-timeout"),
    /** A frontend with accept-proxy: the PROXY header was invalid; the detail starts with its PRX_* code. */
    PROXY_INVALID("PR", "proxy-invalid"),
    /** A frontend with accept-proxy: the client left in the middle of the PROXY header (PRX_TRUNCATED). */
    PROXY_TRUNCATED("CR", "proxy-truncated"),
    /**
     * A frontend with accept-proxy: the client closed without sending a byte (PRX_EMPTY), as TCP
     * health checks of a balancer in front do; logged at INFO, not as an error.
     */
    PROXY_EMPTY("CR", "proxy-empty"),
    /**
     * The session waited in the queue for a free connection slot longer than the backend's
     * {@code timeout.queue} (HAProxy's sQ: a server-side timeout while queued).
     */
    QUEUE_TIMEOUT("sQ", "queue-timeout"),
    /**
     * Every usable server was full and the queue it would have joined held {@code max-queue}
     * sessions (HAProxy's SQ: the queue could not take the session).
     */
    QUEUE_FULL("SQ", "queue-full"),
    /** The client left while it waited in the queue (HAProxy's CQ). */
    CLIENT_GONE_IN_QUEUE("CQ", "client-gone-in-queue"),
    /** The frontend's {@code rate-limit-per-source} refused the connection (HAProxy's PR: proxy refused). */
    RATE_LIMITED("PR", "rate-limited"),
    /** The client's address already held {@code max-connections-per-source} connections of this frontend. */
    SOURCE_LIMIT("PR", "source-limit"),
    /** mailproxy is stopping and the session's {@code shutdown-grace} ran out (HAProxy's K: killed). */
    STOPPING("K?", "stopping"),
    /** An internal error ended the session (a bug: the detail says what). */
    INTERNAL_ERROR("PD", "internal-error");

    private final String state;
    private final String reason;

    Termination(String state, String reason) {
        this.state = state;
        this.reason = reason;
    }

    /** HAProxy's {@code %ts}; a {@code ?} stands for the phase the session ended in. */
    public String state() {
        return state;
    }

    /** {@link #state()} for a session that ended in {@code phase} ({@code R}, {@code Q}, {@code C}, {@code D}). */
    public String state(char phase) {
        return state.indexOf('?') < 0 ? state : state.replace('?', phase);
    }

    /** A short code naming the reason, e.g. {@code tls-handshake}. */
    public String reason() {
        return reason;
    }

    /** Whether a session ending this way is logged at INFO (expected) rather than WARNING. */
    public boolean routine() {
        return this == NORMAL || this == IDLE_TIMEOUT || this == PROXY_EMPTY;
    }
}
