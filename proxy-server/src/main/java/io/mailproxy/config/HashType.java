package io.mailproxy.config;

/**
 * How {@link Balance#SOURCE} maps a client address hash to a server (HAProxy's {@code hash-type}
 * methods; the hash function itself is fixed).
 */
public enum HashType {
    /**
     * The hash modulo the total weight of the usable servers: an even spread, but any change in the
     * set of usable servers (one going DOWN or coming back, one added) moves most clients.
     */
    MAP_BASED,
    /**
     * A hash ring with points per weight unit: a server going DOWN moves only its own clients, and
     * adding one of N servers moves about 1/N of them.
     */
    CONSISTENT
}
