package io.mailproxy.limit;

import java.util.concurrent.ConcurrentHashMap;

/**
 * A frontend's {@code max-connections-per-source}: the most connections one client address (an
 * IPv6 client by its prefix, see {@link SourceKey}) may hold at once, checked when the connection
 * is accepted (or its PROXY header read), before any TLS work, so that one source cannot take a
 * frontend's every slot with connections that never finish their handshake.
 *
 * <p>Memory follows the connections: an address is tracked only while it holds one.
 *
 * <p>Threading: called from every event loop; {@link ConcurrentHashMap#compute} makes each check
 * and count one atomic step per address.
 */
public final class SourceLimiter {

    private final int max;
    private final ConcurrentHashMap<SourceKey, Integer> held = new ConcurrentHashMap<>();

    /** At most {@code max} (1 or more) connections per source. */
    public SourceLimiter(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("max must be at least 1");
        }
        this.max = max;
    }

    public int max() {
        return max;
    }

    /** Counts a connection from {@code source}; false (and nothing counted) when it already holds {@code max}. */
    public boolean tryAcquire(SourceKey source) {
        boolean[] admitted = new boolean[1];
        held.compute(source, (k, n) -> {
            int now = n == null ? 0 : n;
            if (now >= max) {
                return n;
            }
            admitted[0] = true;
            return now + 1;
        });
        return admitted[0];
    }

    /** A connection of {@code source} that {@link #tryAcquire} counted has ended. */
    public void release(SourceKey source) {
        held.computeIfPresent(source, (k, n) -> n <= 1 ? null : n - 1);
    }

    /** Connections counted for {@code source} now. */
    public int held(SourceKey source) {
        return held.getOrDefault(source, 0);
    }

    /** Sources holding connections now. */
    public int sources() {
        return held.size();
    }
}
