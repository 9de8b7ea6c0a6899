package io.mailproxy.limit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.config.RateLimit;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The per-source sliding window, on a clock the test moves. */
class RateLimiterTest {

    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    private RateLimiter limiter(String rate, int maxSources) {
        return new RateLimiter(RateLimit.parse(rate), maxSources, now::get);
    }

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    private static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    @Test
    void theConnectionOverTheLimitWithinTheWindowIsRefused() throws Exception {
        RateLimiter r = limiter("3/10s", 1024);
        InetAddress a = ip("192.0.2.1");
        assertTrue(r.tryAcquire(a));
        assertTrue(r.tryAcquire(a));
        assertTrue(r.tryAcquire(a));
        assertFalse(r.tryAcquire(a), "the 4th within 10s");
    }

    @Test
    void theWindowSlides() throws Exception {
        RateLimiter r = limiter("3/10s", 1024);
        InetAddress a = ip("192.0.2.1");
        assertTrue(r.tryAcquire(a));              // t=0
        advance(Duration.ofSeconds(4));
        assertTrue(r.tryAcquire(a));              // t=4
        assertTrue(r.tryAcquire(a));              // t=4
        advance(Duration.ofMillis(5999));
        assertFalse(r.tryAcquire(a), "t=9.999: three within the last 10s");
        advance(Duration.ofMillis(1));
        assertTrue(r.tryAcquire(a), "t=10: the first left the window");
        assertFalse(r.tryAcquire(a), "t=10: those of t=4 are still in it");
        advance(Duration.ofSeconds(4));
        assertTrue(r.tryAcquire(a));
        assertTrue(r.tryAcquire(a));
        assertFalse(r.tryAcquire(a));
    }

    @Test
    void refusedConnectionsDoNotExtendTheBlock() throws Exception {
        RateLimiter r = limiter("2/1s", 1024);
        InetAddress a = ip("192.0.2.1");
        assertTrue(r.tryAcquire(a));
        assertTrue(r.tryAcquire(a));
        for (int i = 0; i < 9; i++) {
            advance(Duration.ofMillis(100));
            assertFalse(r.tryAcquire(a));
        }
        advance(Duration.ofMillis(100));
        assertTrue(r.tryAcquire(a), "a window after the accepted ones, whatever was refused meanwhile");
    }

    @Test
    void anotherAddressIsNotAffected() throws Exception {
        RateLimiter r = limiter("1/10s", 1024);
        assertTrue(r.tryAcquire(ip("192.0.2.1")));
        assertFalse(r.tryAcquire(ip("192.0.2.1")));
        assertTrue(r.tryAcquire(ip("192.0.2.2")));
        assertTrue(r.tryAcquire(ip("2001:db8::1")));
        assertTrue(r.tryAcquire(ip("2001:db8::2")));
        assertFalse(r.tryAcquire(ip("2001:db8::1")), "IPv6 addresses are counted as well");
    }

    @Test
    void aMappedIpv4AddressIsTheIpv4Address() throws Exception {
        RateLimiter r = limiter("1/10s", 1024);
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) 192, 0, 2, 9};
        // Java itself turns ::ffff:a.b.c.d into an Inet4Address; an Inet6Address built by hand is not
        InetAddress v6 = java.net.Inet6Address.getByAddress(null, mapped, -1);
        assertEquals(SourceKey.of(ip("192.0.2.9"), 64), SourceKey.of(v6, 64));
        assertTrue(r.tryAcquire(ip("192.0.2.9")));
        assertFalse(r.tryAcquire(v6));
    }

    @Test
    void memoryIsBoundedByForgettingTheLeastRecentlySeenAddress() throws Exception {
        RateLimiter r = limiter("1/1h", 64);
        InetAddress first = ip("10.0.0.1");
        assertTrue(r.tryAcquire(first));
        assertFalse(r.tryAcquire(first));
        for (int i = 0; i < 10_000; i++) {
            r.tryAcquire(InetAddress.getByAddress(new byte[] {10, 1, (byte) (i >> 8), (byte) i}));
        }
        assertTrue(r.trackedSources() <= 64, "tracked: " + r.trackedSources());
        assertTrue(r.tryAcquire(first), "forgotten, so it starts afresh");
    }

    /** Negative control for the bound: below it, nothing is forgotten. */
    @Test
    void belowTheBoundNothingIsForgotten() throws Exception {
        RateLimiter r = limiter("1/1h", 16384);
        InetAddress first = ip("10.0.0.1");
        assertTrue(r.tryAcquire(first));
        for (int i = 0; i < 200; i++) {
            r.tryAcquire(InetAddress.getByAddress(new byte[] {10, 1, (byte) (i >> 8), (byte) i}));
        }
        assertEquals(201, r.trackedSources());
        assertFalse(r.tryAcquire(first));
    }

    @Test
    void aLargeLimitKeepsExactCounts() throws Exception {
        RateLimiter r = limiter("1000/1m", 1024);
        InetAddress a = ip("192.0.2.1");
        for (int i = 0; i < 1000; i++) {
            assertTrue(r.tryAcquire(a), "connection " + (i + 1));
            advance(Duration.ofMillis(10));
        }
        assertFalse(r.tryAcquire(a));
        advance(Duration.ofSeconds(50));
        assertTrue(r.tryAcquire(a), "the first left the 1m window");
        assertFalse(r.tryAcquire(a), "the second has not yet");
    }
}
