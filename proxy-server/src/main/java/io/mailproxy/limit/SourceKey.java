package io.mailproxy.limit;

import java.net.Inet4Address;
import java.net.InetAddress;

/**
 * A client address as the per-source limits count it: an IPv4 address (an IPv4-mapped IPv6
 * address is the IPv4 address it maps), or an IPv6 address cut to its first {@code prefix} bits,
 * since one IPv6 client usually holds a whole /64 and can pick a new address in it at will.
 *
 * @param high the first 64 bits (IPv6), or 0 (IPv4)
 * @param low  the last 64 bits (IPv6, masked), or the IPv4 address
 * @param ipv4 whether it is an IPv4 address
 */
public record SourceKey(long high, long low, boolean ipv4) {

    /** The key of {@code address}, IPv6 addresses cut to {@code ipv6Prefix} bits (1 to 128). */
    public static SourceKey of(InetAddress address, int ipv6Prefix) {
        byte[] b = address.getAddress();
        if (address instanceof Inet4Address) {
            return new SourceKey(0, toLong(b, 0, 4), true);
        }
        boolean mapped = b[10] == (byte) 0xff && b[11] == (byte) 0xff;
        for (int i = 0; i < 10 && mapped; i++) {
            mapped = b[i] == 0;
        }
        if (mapped) {
            return new SourceKey(0, toLong(b, 12, 4), true);
        }
        long high = toLong(b, 0, 8);
        long low = toLong(b, 8, 8);
        if (ipv6Prefix < 64) {
            high &= ipv6Prefix == 0 ? 0 : -1L << (64 - ipv6Prefix);
            low = 0;
        } else if (ipv6Prefix < 128) {
            low &= ipv6Prefix == 64 ? 0 : -1L << (128 - ipv6Prefix);
        }
        return new SourceKey(high, low, false);
    }

    private static long toLong(byte[] b, int from, int n) {
        long v = 0;
        for (int i = from; i < from + n; i++) {
            v = (v << 8) | (b[i] & 0xFF);
        }
        return v;
    }

    @Override
    public String toString() {
        if (ipv4) {
            return ((low >>> 24) & 0xFF) + "." + ((low >>> 16) & 0xFF) + "." + ((low >>> 8) & 0xFF) + "." + (low & 0xFF);
        }
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            long word = ((i < 4 ? high : low) >>> (48 - 16 * (i % 4))) & 0xFFFF;
            s.append(i == 0 ? "" : ":").append(Long.toHexString(word));
        }
        return s.toString();
    }
}
