package io.mailproxy.log;

/**
 * How a session ended, in HAProxy's two-character termination state (first: who ended it;
 * second: in which phase) plus a short reason code for the log and the tests.
 */
public enum Termination {
    /** Either side closed normally after the relay started. */
    NORMAL("--", "ok"),
    /** The client reset or broke the connection while data flowed. */
    CLIENT_ABORT("CD", "client-abort"),
    /** The server reset or broke the connection while data flowed. */
    SERVER_ABORT("SD", "server-abort"),
    /** No byte in either direction for the idle timeout. */
    IDLE_TIMEOUT("cD", "idle-timeout"),
    /** The client left before a server was connected. */
    CLIENT_GONE_BEFORE_CONNECT("CC", "client-gone"),
    /** No server could be connected (refused, unreachable, timed out, or none configured with weight). */
    NO_SERVER("SC", "no-server"),
    /** The client's TLS handshake failed or timed out; no server was contacted. */
    TLS_HANDSHAKE_FAILED("CR", "tls-handshake"),
    /**
     * The server's health check marked it DOWN and the backend's {@code on-marked-down} is
     * {@code shutdown-sessions}: HAProxy's 'D' ("killed because the server was detected as down").
     */
    SERVER_DOWN("DD", "server-down"),
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
    /** mailproxy is stopping. */
    PROXY_STOPPING("PD", "stopping");

    private final String state;
    private final String reason;

    Termination(String state, String reason) {
        this.state = state;
        this.reason = reason;
    }

    /** HAProxy's {@code %ts}. */
    public String state() {
        return state;
    }

    /** A short code naming the reason, e.g. {@code tls-handshake}. */
    public String reason() {
        return reason;
    }
}
