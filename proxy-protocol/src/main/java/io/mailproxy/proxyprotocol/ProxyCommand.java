package io.mailproxy.proxyprotocol;

/**
 * The command of a PROXY header (spec section 2.2, low nibble of the 13th byte).
 *
 * <p>A v1 header is always {@link #PROXY}; v1 {@code UNKNOWN} decodes as {@code PROXY} with
 * {@link AddressFamily#UNSPEC}.
 */
public enum ProxyCommand {
    /** The proxy opened the connection itself (a health check): use the socket's own addresses. */
    LOCAL,
    /** The connection is relayed on behalf of a client whose addresses the header carries. */
    PROXY
}
