package io.mailproxy.checks;

/** Which PROXY protocol header, if any, a check sends before anything else (before TLS too). */
public enum CheckProxyHeader {
    /** No header: for listeners without {@code haproxy = yes}. */
    NONE,
    /**
     * A v2 header with the LOCAL command and no addresses: what HAProxy sends for its own checks to
     * {@code send-proxy-v2} servers. Dovecot's {@code haproxy = yes} listeners require a header, and
     * LOCAL tells them the connection is the proxy's own, so this is the default.
     */
    LOCAL,
    /** A v2 PROXY header carrying the check connection's own source and destination addresses. */
    V2
}
