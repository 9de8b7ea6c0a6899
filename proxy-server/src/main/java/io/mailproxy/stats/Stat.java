package io.mailproxy.stats;

/**
 * The counters kept per frontend, backend and server, each in every event loop's stripe (see
 * {@link LoopCounters}); the HAProxy CSV field each feeds is named.
 */
public enum Stat {
    /** Sessions accepted (frontend), placed on a server (backend, server): {@code stot}. */
    SESSIONS,
    /** Bytes from the client: {@code bin}. */
    BYTES_IN,
    /** Bytes to the client: {@code bout}. */
    BYTES_OUT,
    /** Connections refused before a server was asked (rate, per-source cap, untrusted peer): {@code dreq}. */
    DENIED,
    /** Sessions that ended on a bad start: invalid or truncated PROXY header, failed TLS handshake: {@code ereq}. */
    REQUEST_ERRORS,
    /** Connection attempts to a server that failed (refused, timed out, no greeting): {@code econ}. */
    CONNECT_ERRORS,
    /** Sessions the server ended without its goodbye: {@code eresp}. */
    RESPONSE_ERRORS,
    /** Connection attempts retried: {@code wretr}. */
    RETRIES,
    /** Sessions the client aborted: {@code cli_abrt}. */
    CLIENT_ABORTS,
    /** Sessions the server aborted: {@code srv_abrt}. */
    SERVER_ABORTS,
    /** TLS handshakes completed: {@code ssl_sess}. */
    TLS_HANDSHAKES,
    /** TLS handshakes that resumed a session: {@code ssl_reused_sess}. */
    TLS_RESUMED,
    /** TLS handshakes that failed or timed out: {@code ssl_failed_handshake}. */
    TLS_FAILED,
    /** Completed handshakes at TLS 1.2. */
    TLS_V1_2,
    /** Completed handshakes at TLS 1.3. */
    TLS_V1_3,
    /** When the last session came, ms since the epoch (the largest over the loops): {@code lastsess}. */
    LAST_SESSION_MILLIS,
    /** The second {@link #RATE_CURRENT} counts; the loop's own window of the session rate. */
    RATE_SECOND,
    /** Sessions in this loop's current second. */
    RATE_CURRENT,
    /** Sessions in this loop's previous second. */
    RATE_PREVIOUS;

    private static final Stat[] VALUES = values();

    static int count() {
        return VALUES.length;
    }
}
