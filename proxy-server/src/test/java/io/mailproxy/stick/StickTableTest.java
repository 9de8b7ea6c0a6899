package io.mailproxy.stick;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.config.StickTableSettings;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** {@link StickTable} alone, on a clock the test moves by hand. */
class StickTableTest {

    private final AtomicLong millis = new AtomicLong(1_000_000);

    private StickTable table(int size, Duration expire) {
        return new StickTable("t", size, expire, millis::get);
    }

    private static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(literal, e);
        }
    }

    @Test
    void matchFindsWhatWasStored() {
        StickTable t = table(100, Duration.ofMinutes(30));
        assertNull(t.match(ip("10.0.0.1")), "nothing stored yet");
        assertNull(t.store(ip("10.0.0.1"), "dc1"), "a new entry replaces nothing");
        assertEquals("dc1", t.match(ip("10.0.0.1")));
        // Negative control: a neighbouring address is another client.
        assertNull(t.match(ip("10.0.0.2")));
        assertEquals(1, t.count());
    }

    @Test
    void storeOverwritesAndReportsTheServerItReplaced() {
        StickTable t = table(100, Duration.ofMinutes(30));
        t.store(ip("10.0.0.1"), "dc1");
        assertNull(t.store(ip("10.0.0.1"), "dc1"), "the same server again is not a move");
        assertEquals("dc1", t.store(ip("10.0.0.1"), "dc2"));
        assertEquals("dc2", t.match(ip("10.0.0.1")));
        assertEquals(1, t.count());
    }

    @Test
    void entriesExpireAfterTheirLastUse() {
        StickTable t = table(100, Duration.ofSeconds(30));
        t.store(ip("10.0.0.1"), "dc1");
        millis.addAndGet(29_999);
        assertEquals("dc1", t.match(ip("10.0.0.1")), "one millisecond before expiry");
        // that match was a use: the entry lives 30 s from now on
        millis.addAndGet(29_999);
        assertEquals("dc1", t.match(ip("10.0.0.1")));
        millis.addAndGet(30_000);
        assertNull(t.match(ip("10.0.0.1")), "30 s after the last use");
        assertEquals(0, t.count(), "the lookup dropped it");
    }

    @Test
    void anExpiredEntryIsNotReportedAsReplaced() {
        StickTable t = table(100, Duration.ofSeconds(30));
        t.store(ip("10.0.0.1"), "dc1");
        millis.addAndGet(30_000);
        assertNull(t.store(ip("10.0.0.1"), "dc2"));
        assertEquals("dc2", t.match(ip("10.0.0.1")));
    }

    @Test
    void storesSweepExpiredEntriesThatNobodyLooksUp() {
        StickTable t = table(1000, Duration.ofSeconds(30));
        for (int i = 0; i < 500; i++) {
            t.store(ip("10.0.1." + (i % 250)), "dc1");
            t.store(ip("10.0.2." + (i % 250)), "dc1");
        }
        assertEquals(500, t.count());
        millis.addAndGet(60_000);
        // Each store looks at 4 slots: 2,000 stores of one fresh key pass over the 1,501 slots 5
        // times (an entry shifted back into the slot just swept waits for the next pass).
        for (int i = 0; i < 2000; i++) {
            t.store(ip("192.0.2.1"), "dc2");
        }
        assertEquals(1, t.count());
    }

    @Test
    void withoutExpireEntriesStay() {
        StickTable t = table(10, null);
        t.store(ip("10.0.0.1"), "dc1");
        millis.addAndGet(Duration.ofDays(400).toMillis());
        assertEquals("dc1", t.match(ip("10.0.0.1")));
    }

    @Test
    void aFullTableDropsTheLeastRecentlyUsedEntry() {
        StickTable t = table(3, null);
        t.store(ip("10.0.0.1"), "dc1");
        millis.incrementAndGet();
        t.store(ip("10.0.0.2"), "dc1");
        millis.incrementAndGet();
        t.store(ip("10.0.0.3"), "dc1");
        millis.incrementAndGet();
        t.match(ip("10.0.0.1")); // now .2 is the least recently used
        millis.incrementAndGet();
        t.store(ip("10.0.0.4"), "dc2");
        assertEquals(3, t.count());
        assertNull(t.match(ip("10.0.0.2")));
        assertEquals("dc1", t.match(ip("10.0.0.1")));
        assertEquals("dc1", t.match(ip("10.0.0.3")));
        assertEquals("dc2", t.match(ip("10.0.0.4")));
    }

    /**
     * In segments too large to scan, eviction samples: clients in use survive a flood of new ones
     * many times the table's size, and the oldest of the flood are the ones gone.
     */
    @Test
    void sampledEvictionKeepsTheClientsInUse() {
        int size = 20_000;
        StickTable t = table(size, null);
        List<InetAddress> hot = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            InetAddress a = ip("10.1." + (i / 250) + "." + (i % 250));
            hot.add(a);
            t.store(a, "hot");
        }
        for (int i = 0; i < 60_000; i++) {
            millis.incrementAndGet();
            t.store(ip("172.16." + (i / 250) + "." + (i % 250)), "cold");
            if (i % 500 == 0) {
                hot.forEach(t::match);
            }
        }
        assertEquals(size, t.count());
        long kept = hot.stream().filter(a -> "hot".equals(t.match(a))).count();
        assertEquals(hot.size(), kept, "clients in use that were evicted");
        long oldColdKept = 0;
        for (int i = 0; i < 10_000; i++) {
            if (t.match(ip("172.16." + (i / 250) + "." + (i % 250))) != null) {
                oldColdKept++;
            }
        }
        assertTrue(oldColdKept < 100, "the first 10,000 of 60,000 new clients should be gone, " + oldColdKept + " left");
    }

    @Test
    void ipv4AndIpv6ShareTheTable() throws Exception {
        StickTable t = table(100, null);
        t.store(ip("192.0.2.7"), "dc1");
        t.store(ip("2001:db8::7"), "dc2");
        t.store(ip("::"), "dc3");
        assertEquals("dc1", t.match(ip("192.0.2.7")));
        assertEquals("dc2", t.match(ip("2001:db8::7")));
        assertEquals("dc3", t.match(ip("::")), "the all-zero address is a key like any other");
        // Negative controls: same low bits, other high bits; and IPv4-compatible (not mapped) ::c000:207
        assertNull(t.match(ip("2001:db9::7")));
        assertNull(t.match(Inet6Address.getByAddress(null, new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                (byte) 192, 0, 2, 7}, -1)));
        assertEquals(3, t.count());
    }

    @Test
    void ipv4MappedIpv6IsTheIpv4Address() throws Exception {
        StickTable t = table(100, null);
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, (byte) 192, 0, 2, 7};
        InetAddress v6 = Inet6Address.getByAddress(null, mapped, -1);
        assertEquals(16, v6.getAddress().length, "a real IPv6 object, as a dual-stack socket reports");
        t.store(v6, "dc1");
        assertEquals("dc1", t.match(ip("192.0.2.7")));
        t.store(ip("192.0.2.7"), "dc2");
        assertEquals("dc2", t.match(v6));
        assertEquals(1, t.count());
    }

    @Test
    void serversAreStoredByName() {
        StickTable shared = table(100, null);
        // what an IMAP backend stores, a POP3 backend reads back: a name, not a position
        shared.store(ip("10.0.0.9"), "dc2");
        assertEquals("dc2", shared.match(ip("10.0.0.9")));
        shared.store(ip("10.0.0.10"), "dc1");
        assertEquals("dc1", shared.match(ip("10.0.0.10")));
        assertEquals("dc2", shared.match(ip("10.0.0.9")));
    }

    /** Threads storing and matching their own clients never see another's entry, and nothing is lost. */
    @Test
    void concurrentUseFromManyThreads() throws Exception {
        int threads = 8;
        int perThread = 20_000;
        // Twice the room needed: segments fill unevenly, and no eviction may blur the check.
        StickTable t = new StickTable("t", 2 * threads * perThread, Duration.ofMinutes(30), () -> System.nanoTime() / 1_000_000);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int n = 0; n < threads; n++) {
                int thread = n;
                results.add(pool.submit(() -> {
                    int wrong = 0;
                    for (int round = 0; round < 3; round++) {
                        for (int i = 0; i < perThread; i++) {
                            long lo = 0x0000_FFFF_0000_0000L | ((long) thread << 24) | i;
                            String expected = round == 0 ? null : "s" + thread + "-" + (round - 1);
                            String got = t.match(0, lo);
                            if (expected == null ? got != null : !expected.equals(got)) {
                                wrong++;
                            }
                            t.store(0, lo, "s" + thread + "-" + round);
                        }
                    }
                    return wrong;
                }));
            }
            for (Future<Integer> r : results) {
                assertEquals(0, r.get());
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(threads * perThread, t.count());
    }

    @Test
    void aResizedTableKeepsTheMostRecentlyUsedEntriesWithTheirTimes() {
        StickTable t = table(100, Duration.ofMinutes(10));
        for (int i = 1; i <= 50; i++) {
            t.store(ip("10.0.0." + i), i % 2 == 0 ? "dc2" : "dc1");
            millis.addAndGet(1000);
        }
        t.store(ip("2001:db8::1"), "dc3");
        StickTable smaller = t.resized(new StickTableSettings("t", false, 20, Duration.ofMinutes(10)));
        assertEquals(20, smaller.size());
        assertEquals(20, smaller.count());
        assertEquals("dc3", smaller.match(ip("2001:db8::1")), "the last one stored");
        for (int i = 32; i <= 50; i++) {
            assertEquals(i % 2 == 0 ? "dc2" : "dc1", smaller.match(ip("10.0.0." + i)), "10.0.0." + i);
        }
        // Negative control: the oldest did not fit.
        assertNull(smaller.match(ip("10.0.0.1")));
        // Each entry keeps its time of last use: under a 30 s expiry those used 30 s or more before
        // the resize are not copied, and the others expire when they would have.
        StickTable bigger = t.resized(new StickTableSettings("t", false, 1000, Duration.ofSeconds(30)));
        assertEquals(30, bigger.count(), "10.0.0.22 to 10.0.0.50 and the IPv6 client");
        assertNull(bigger.match(ip("10.0.0.21")));
        millis.addAndGet(25_000);
        assertEquals("dc1", bigger.match(ip("10.0.0.49")), "used 2 + 25 s ago");
        assertNull(bigger.match(ip("10.0.0.30")), "used 21 + 25 s ago: expired under the new 30 s");
    }
}
