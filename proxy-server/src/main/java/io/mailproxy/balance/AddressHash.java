package io.mailproxy.balance;

import java.nio.charset.StandardCharsets;

/**
 * The 64-bit hash behind {@code source} balancing: client addresses and ring points. Fixed and
 * unseeded on purpose, so that a client maps to the same server after a restart and on every
 * mailproxy instance with the same servers.
 *
 * <p>Bytes are taken 8 at a time (little-endian, the last block zero-padded, the length mixed in
 * first) and each block goes through MurmurHash3's 64-bit finalizer, a bijection in which every
 * input bit flips each output bit with probability close to 1/2; addresses that differ in one bit
 * (10.0.0.1 and 10.0.0.3) therefore land far apart.
 */
final class AddressHash {

    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private AddressHash() {
    }

    /** The hash of {@code bytes} (4 for IPv4, 16 for IPv6). */
    static long of(byte[] bytes) {
        long h = mix((bytes.length + 1) * GOLDEN);
        for (int i = 0; i < bytes.length; i += 8) {
            long block = 0;
            for (int j = 0; j < 8 && i + j < bytes.length; j++) {
                block |= (bytes[i + j] & 0xFFL) << (8 * j);
            }
            h = mix(h ^ block) + GOLDEN;
        }
        return mix(h);
    }

    /** The hash of point {@code index} of the server named {@code name} on a consistent-hash ring. */
    static long point(String name, int index) {
        return mix(of(name.getBytes(StandardCharsets.UTF_8)) + (index + 1) * GOLDEN);
    }

    /** MurmurHash3's fmix64. */
    static long mix(long k) {
        k ^= k >>> 33;
        k *= 0xFF51AFD7ED558CCDL;
        k ^= k >>> 33;
        k *= 0xC4CEB9FE1A85EC53L;
        k ^= k >>> 33;
        return k;
    }
}
