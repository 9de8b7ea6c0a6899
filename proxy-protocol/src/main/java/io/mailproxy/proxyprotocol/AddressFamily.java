package io.mailproxy.proxyprotocol;

/** The address family of a PROXY header (spec 2.2, high nibble of the 14th byte). */
public enum AddressFamily {
    /** No usable addresses (v2 {@code AF_UNSPEC}, v1 {@code UNKNOWN}, and every LOCAL header). */
    UNSPEC(0x0, 0),
    /** IPv4: 2 x 4 address bytes and 2 x 2 port bytes. */
    INET(0x1, 12),
    /** IPv6: 2 x 16 address bytes and 2 x 2 port bytes. */
    INET6(0x2, 36),
    /** UNIX sockets: 2 x 108 path bytes. */
    UNIX(0x3, 216);

    private final int nibble;
    private final int addressBlockLength;

    AddressFamily(int nibble, int addressBlockLength) {
        this.nibble = nibble;
        this.addressBlockLength = addressBlockLength;
    }

    /** The value of the high nibble of the v2 family byte. */
    public int nibble() {
        return nibble;
    }

    /** Bytes this family's addresses take in a v2 header (spec 2.2, {@code union proxy_addr}). */
    public int addressBlockLength() {
        return addressBlockLength;
    }
}
