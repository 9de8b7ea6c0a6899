package io.mailproxy.backend;

/**
 * Tests of other packages put load on a server as sessions would (one connection slot each),
 * without a queue or a connection: what balancers compare.
 */
public final class Load {

    private Load() {
    }

    /** One more session placed on {@code s}; returns its sessions now. */
    public static int add(Server s) {
        s.counted();
        return s.active.incrementAndGet();
    }

    /** One session of {@code s} ended. */
    public static void remove(Server s) {
        s.active.decrementAndGet();
    }
}
