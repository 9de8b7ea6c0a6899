package io.mailproxy.stick;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** What a table synced with peers adds: numbered local updates, learned entries, walks. */
class StickTableSyncTest {

    private final AtomicLong millis = new AtomicLong(5_000_000);

    private StickTable synced(int size, Duration expire) {
        return new StickTable("t", size, expire, millis::get, true);
    }

    private static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(literal, e);
        }
    }

    private static List<String> read(StickTable t, long after) {
        EntryBatch b = t.newBatch(8);
        long to = t.readUpdates(after, b, 1000);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < b.size(); i++) {
            out.add(b.update(i) + ":" + hex(b.key(i)) + ":" + b.server(i) + "#" + b.serverId(i) + ":" + b.remainingMillis(i));
        }
        out.add("to " + to);
        return out;
    }

    private static String hex(byte[] key) {
        StringBuilder s = new StringBuilder();
        for (int i = 10; i < 16; i++) {
            s.append(String.format("%02x", key[i]));
        }
        return s.toString();
    }

    @Test
    void storesAreNumberedAndReadBackWithTheirServerAndLife() {
        StickTable t = synced(100, Duration.ofMinutes(30));
        t.registerServer("dc1", 1);
        t.registerServer("dc2", 2);
        AtomicInteger told = new AtomicInteger();
        t.listener(told::incrementAndGet);
        t.store(ip("127.0.0.5"), "dc1");
        millis.addAndGet(1000);
        t.store(ip("127.0.0.6"), "dc2");
        assertEquals(2, t.lastUpdate());
        assertEquals(2, told.get());
        assertEquals(List.of("1:ffff7f000005:dc1#1:1799000", "2:ffff7f000006:dc2#2:1800000", "to 2"), read(t, 0));
        assertEquals(List.of("2:ffff7f000006:dc2#2:1800000", "to 2"), read(t, 1));
    }

    /** As HAProxy: an entry whose update no peer was sent yet is not numbered again; the send carries its state. */
    @Test
    void aRenewalBeforeTheSendIsNotNumberedAgain() {
        StickTable t = synced(100, Duration.ofMinutes(30));
        t.store(ip("127.0.0.5"), "dc1");
        millis.addAndGet(1000);
        assertEquals("dc1", t.match(ip("127.0.0.5")));
        t.store(ip("127.0.0.5"), "dc2");
        assertEquals(1, t.lastUpdate());
        assertEquals(List.of("1:ffff7f000005:dc2#0:1800000", "to 1"), read(t, 0));
        // Once a peer was sent update 1, a renewal is a new update, and update 1 is stale.
        t.committed(1);
        t.match(ip("127.0.0.5"));
        assertEquals(2, t.lastUpdate());
        assertEquals(List.of("2:ffff7f000005:dc2#0:1800000", "to 2"), read(t, 0));
    }

    @Test
    void learnedEntriesAreNotNumberedAndKeepTheirLifeUpToExpire() {
        StickTable t = synced(100, Duration.ofMinutes(30));
        t.registerServer("dc1", 1);
        t.registerServer("dc2", 2);
        AtomicInteger told = new AtomicInteger();
        t.listener(told::incrementAndGet);
        long[] k5 = StickTable.key(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1, 127, 0, 0, 5});
        assertTrue(t.learn(k5[0], k5[1], "dc2", 2, 60_000));
        assertEquals(new StickTable.Entry(ip("127.0.0.5"), "dc2", 2, 60_000), t.peek(ip("127.0.0.5")));
        assertTrue(t.learn(k5[0], k5[1], null, 1, 99_999_999), "by HAProxy's server id alone");
        assertEquals(new StickTable.Entry(ip("127.0.0.5"), "dc1", 1, 1_800_000), t.peek(ip("127.0.0.5")), "never beyond expire");
        assertEquals(0, t.lastUpdate());
        assertEquals(0, told.get());
        assertFalse(t.learn(k5[0], k5[1], "dc9", 9, 1000), "a server this table does not know");
        assertFalse(t.learn(k5[0], k5[1], "dc1", 1, 0), "an entry that has expired already");
        assertEquals("dc1", t.peek(ip("127.0.0.5")).server());
        millis.addAndGet(1_800_000);
        assertNull(t.peek(ip("127.0.0.5")));
    }

    @Test
    void peekDoesNotRenew() {
        StickTable t = synced(100, Duration.ofSeconds(10));
        t.store(ip("10.0.0.1"), "dc1");
        millis.addAndGet(9_000);
        assertEquals(1_000, t.peek(ip("10.0.0.1")).remainingMillis());
        assertEquals(1, t.lastUpdate());
        millis.addAndGet(1_000);
        assertNull(t.peek(ip("10.0.0.1")));
    }

    @Test
    void aPeerTooFarBehindTheLogIsToldSo() {
        StickTable t = synced(100, null);
        int capacity = new UpdateLog(100).capacity();
        for (int i = 0; i <= capacity; i++) {
            t.store(0, 0x0000_FFFF_0000_0000L | i, "dc1");
        }
        assertEquals(StickTable.LOST, t.readUpdates(0, t.newBatch(8), 10));
        // Negative control: from one update later, the log still holds everything.
        assertEquals(10, t.readUpdates(1, t.newBatch(8), 9));
    }

    @Test
    void anUnsyncedTableNumbersNothing() {
        StickTable t = new StickTable("t", 100, null, millis::get);
        t.store(ip("10.0.0.1"), "dc1");
        assertFalse(t.synced());
        assertEquals(0, t.lastUpdate());
    }

    /**
     * A walk in small steps sees every entry that lives through it, while other entries expire
     * and are deleted (shifting their probe runs back) and new ones are added between the steps.
     * Negative control (run by hand): steps that stop after {@code max} entries instead of at the
     * next empty slot miss an entry in round 8.
     */
    @Test
    void aWalkInStepsMissesNoEntryThatLivesThroughIt() {
        Random random = new Random(7);
        for (int round = 0; round < 20; round++) {
            StickTable t = synced(3000, Duration.ofMinutes(30));
            t.registerServer("short", 1);
            Set<Long> stable = new HashSet<>();
            List<Long> shortLived = new ArrayList<>();
            for (int i = 0; i < 2500; i++) {
                long lo = random.nextLong();
                if (random.nextInt(3) == 0) {
                    t.learn(1, lo, "short", null, 1000);
                    shortLived.add(lo);
                } else {
                    t.store(1, lo, "stable");
                    stable.add(lo);
                }
            }
            millis.addAndGet(1000);
            Set<Long> seen = new HashSet<>();
            EntryBatch b = t.newBatch(4);
            long cursor = 0;
            int steps = 0;
            while (cursor != StickTable.WALK_DONE) {
                b.clear();
                cursor = t.walk(cursor, b, 1 + random.nextInt(8));
                for (int i = 0; i < b.size(); i++) {
                    byte[] key = b.key(i);
                    long lo = 0;
                    for (int k = 8; k < 16; k++) {
                        lo = (lo << 8) | (key[k] & 0xFF);
                    }
                    seen.add(lo);
                }
                // Between steps: some expired entries are met and deleted, new entries come.
                for (int n = 0; n < 3 && !shortLived.isEmpty(); n++) {
                    t.match(1, shortLived.remove(random.nextInt(shortLived.size())));
                }
                t.store(2, random.nextLong(), "new");
                steps++;
            }
            assertTrue(steps > 100, "walked in " + steps + " steps");
            Set<Long> missed = new HashSet<>(stable);
            missed.removeAll(seen);
            assertEquals(Set.of(), missed, "round " + round);
        }
    }

    @Test
    void keysAreTheIpv6FormHaproxySends() {
        StickTable t = synced(10, null);
        t.store(ip("2001:db8::1"), "dc1");
        EntryBatch b = t.newBatch(1);
        t.readUpdates(0, b, 10);
        assertArrayEquals(ip("2001:db8::1").getAddress(), b.key(0));
        assertEquals(-1, b.remainingMillis(0), "a table without expire");
    }
}
