package io.mailproxy.proxyprotocol;

/** The transport protocol of a PROXY header (spec 2.2, low nibble of the 14th byte). */
public enum TransportProtocol {
    /** Unknown or unspecified; always paired with {@link AddressFamily#UNSPEC}. */
    UNSPEC(0x0),
    /** {@code SOCK_STREAM}: TCP over INET/INET6, or a UNIX stream socket. */
    STREAM(0x1),
    /** {@code SOCK_DGRAM}: UDP over INET/INET6, or a UNIX datagram socket. */
    DGRAM(0x2);

    private final int nibble;

    TransportProtocol(int nibble) {
        this.nibble = nibble;
    }

    /** The value of the low nibble of the v2 family byte. */
    public int nibble() {
        return nibble;
    }
}
