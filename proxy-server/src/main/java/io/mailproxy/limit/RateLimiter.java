package io.mailproxy.limit;

import io.mailproxy.config.RateLimit;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * A frontend's {@code rate-limit-per-source}: at most {@code connections} accepted connections per
 * client address within any sliding {@code window}.
 *
 * <p>Sources are {@link SourceKey}s: IPv4-mapped addresses count as IPv4, IPv6 addresses may be
 * grouped by prefix.
 *
 * <p>Exact, not estimated: each address keeps the times of its last {@code connections} accepted
 * connections in a ring (grown on demand, so a client that connects rarely keeps one or two); a new
 * connection is accepted when fewer are recorded or when the oldest of them is at least a window
 * old. Refused connections are not recorded, so a client over the limit gets a connection again as
 * soon as its oldest one leaves the window.
 *
 * <p>Memory is bounded: at most {@code maxSources} addresses, split over 16 segments by hash, each an
 * access-ordered map that forgets its least recently seen address when full (that address starts
 * afresh). Worst case: {@code maxSources} rings of {@code connections} longs.
 *
 * <p>Threading: called from every event loop; each segment is guarded by its own lock held only for a
 * map lookup and a ring update, so no event loop ever waits long.
 */
public final class RateLimiter {

    /** Addresses tracked per frontend by default. */
    public static final int DEFAULT_MAX_SOURCES = 16384;

    private static final int SEGMENTS = 16;

    private final int connections;
    private final long windowNanos;
    private final LongSupplier nanoClock;
    private final Segment[] segments = new Segment[SEGMENTS];

    /** A limiter on the system's monotonic clock with the default bound on addresses. */
    public RateLimiter(RateLimit limit) {
        this(limit, DEFAULT_MAX_SOURCES, System::nanoTime);
    }

    /** With an address bound and a clock of its own (tests). */
    public RateLimiter(RateLimit limit, int maxSources, LongSupplier nanoClock) {
        if (maxSources < SEGMENTS) {
            throw new IllegalArgumentException("maxSources must be at least " + SEGMENTS);
        }
        this.connections = limit.connections();
        this.windowNanos = limit.window().toNanos();
        this.nanoClock = nanoClock;
        for (int i = 0; i < SEGMENTS; i++) {
            segments[i] = new Segment(maxSources / SEGMENTS);
        }
    }

    /** Records a new connection from {@code source} and says whether it is within the limit. */
    public boolean tryAcquire(SourceKey source) {
        Segment segment = segments[Math.floorMod(source.hashCode() * 0x9E3779B9, SEGMENTS)];
        long now = nanoClock.getAsLong();
        synchronized (segment) {
            Ring ring = segment.computeIfAbsent(source, k -> new Ring());
            return ring.tryAdd(now, connections, windowNanos);
        }
    }

    /** {@link #tryAcquire(SourceKey)} for one whole address (IPv6 not grouped by prefix). */
    public boolean tryAcquire(InetAddress source) {
        return tryAcquire(SourceKey.of(source, 128));
    }

    /** Addresses tracked now (at most the bound given at construction). */
    public int trackedSources() {
        int n = 0;
        for (Segment s : segments) {
            synchronized (s) {
                n += s.size();
            }
        }
        return n;
    }

    /** The accepted connections' times of one address, oldest at {@code next} once full. */
    private static final class Ring {
        private long[] times = new long[2];
        private int count;
        private int next;

        boolean tryAdd(long now, int limit, long window) {
            if (count < limit) {
                if (count == times.length) {
                    // still filling: the ring is in order from 0, so growing keeps it in order
                    times = Arrays.copyOf(times, Math.min(limit, times.length * 2));
                }
                times[count++] = now;
                next = count % limit;
                return true;
            }
            if (now - times[next] < window) {
                return false;
            }
            times[next] = now;
            next = (next + 1) % limit;
            return true;
        }
    }

    /** An access-ordered map that forgets its least recently seen address beyond its capacity. */
    private static final class Segment extends LinkedHashMap<SourceKey, Ring> {
        private static final long serialVersionUID = 1L;
        private final int capacity;

        Segment(int capacity) {
            super(16, 0.75f, true);
            this.capacity = capacity;
        }

        @Override
        protected boolean removeEldestEntry(Map.Entry<SourceKey, Ring> eldest) {
            return size() > capacity;
        }
    }
}
