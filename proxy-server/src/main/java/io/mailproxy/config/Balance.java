package io.mailproxy.config;

/**
 * The balancing algorithm of a backend, named as HAProxy's {@code balance} keywords (an underscore
 * here is a dash in the configuration: {@code static-rr}). See {@code io.mailproxy.balance.Balancer}
 * for what each does.
 */
public enum Balance {
    /** Each server in turn, in proportion to its weight, picks spread out (smooth weighted round robin). */
    ROUNDROBIN,
    /** Round robin over a fixed map of the usable servers, rebuilt when that set changes. */
    STATIC_RR,
    /** The fewest sessions relative to weight; ties in turn. */
    LEASTCONN,
    /** The first usable server in configuration order that has a free connection slot. */
    FIRST,
    /** A hash of the original client address, see {@link HashType}. */
    SOURCE,
    /** Two servers drawn at random by weight; the one with fewer sessions relative to weight wins. */
    RANDOM
}
