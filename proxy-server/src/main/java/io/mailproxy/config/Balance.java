package io.mailproxy.config;

/** The balancing algorithm of a backend, named as HAProxy's {@code balance} keywords. */
public enum Balance {
    ROUNDROBIN,
    LEASTCONN
}
