package io.mailproxy.peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.session.ProxyRunner;
import io.mailproxy.stick.StickTable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two nodes whose peer connections pass through {@link Partition}s that cut the network: a
 * stream of updates cut midway resumes from the last acknowledgement, and a partition longer than
 * some entries' expiry revives none of them while the updates made meanwhile arrive, both ways.
 */
class PeerFaultsTest {

    private static final Duration WAIT = Duration.ofSeconds(40);

    @TempDir
    Path dir;

    @Test
    void aStreamCutMidwayResumesAndEveryUpdateArrives() throws Exception {
        int n = 60_000;
        String table = "size = 256k, expire = 30m, peers = true";
        try (Pair pair = new Pair(dir, table)) {
            ProxyRunner a = pair.a;
            ProxyRunner b = pair.b;
            assertTrue(ProxyRunner.await(() -> connected(a) && connected(b), WAIT), "connected");
            pair.slow(true);
            StickTable ta = pair.ta;
            StickTable tb = pair.tb;
            for (int i = 0; i < n; i++) {
                ta.store(address(i), i % 3 == 0 ? "s2" : "s1");
            }
            assertTrue(ProxyRunner.await(() -> tb.count() >= 1000, WAIT), "the stream began: " + tb.count());
            pair.cut();
            int atCut = tb.count();
            assertTrue(atCut < n, "cut midway: " + atCut + " of " + n + " had arrived");
            // Meanwhile, on both sides.
            ta.store(InetAddress.getByName("10.200.0.1"), "s2");
            tb.store(InetAddress.getByName("10.200.0.2"), "s1");
            pair.slow(false);
            pair.heal();
            assertTrue(ProxyRunner.await(() -> tb.count() == n + 2, WAIT), "mpb has " + tb.count() + " of " + (n + 2));
            assertTrue(ProxyRunner.await(() -> ta.count() == n + 2, WAIT), "mpa has " + ta.count() + " of " + (n + 2));
            for (int i = 0; i < n; i += 7) {
                assertEquals(i % 3 == 0 ? "s2" : "s1", tb.peek(address(i)).server(), "entry " + i);
            }
            assertEquals("s2", tb.peek(InetAddress.getByName("10.200.0.1")).server());
            assertEquals("s1", ta.peek(InetAddress.getByName("10.200.0.2")).server());
            // Both still serve clients.
            assertNotNull(PeerNodes.serverFor(a, "127.0.0.9"));
            assertNotNull(PeerNodes.serverFor(b, "127.0.0.9"));
        }
    }

    @Test
    void aPartitionLongerThanTheExpiryRevivesNoStaleEntryAndUpdatesMadeMeanwhileArrive() throws Exception {
        String table = "size = 1k, expire = 15s, peers = true";
        try (Pair pair = new Pair(dir, table)) {
            ProxyRunner a = pair.a;
            ProxyRunner b = pair.b;
            StickTable ta = pair.ta;
            StickTable tb = pair.tb;
            List<InetAddress> old = addresses("10.1.0.", 10);
            List<InetAddress> newOnA = addresses("10.2.0.", 10);
            List<InetAddress> newOnB = addresses("10.3.0.", 10);
            InetAddress moved = InetAddress.getByName("10.4.0.1");
            old.forEach(c -> ta.store(c, "s1"));
            assertTrue(ProxyRunner.await(() -> tb.count() == 10, WAIT), "mpb learned the old entries: " + tb.count());
            // A client stored a third of the expiry later, so that it outlives the old ones.
            assertTrue(ProxyRunner.await(() -> peek(ta, old.get(0)).remainingMillis() < 10_000, WAIT));
            ta.store(moved, "s1");
            assertTrue(ProxyRunner.await(() -> peek(tb, moved) != null, WAIT), "mpb learned " + moved);

            pair.cut();
            ta.store(moved, "s2");
            // Longer than the old entries' expiry: they are gone on both sides.
            assertTrue(ProxyRunner.await(() -> old.stream().allMatch(c -> peek(ta, c) == null && peek(tb, c) == null), WAIT),
                    "the old entries expired");
            newOnA.forEach(c -> ta.store(c, "s2"));
            newOnB.forEach(c -> tb.store(c, "s1"));
            // The control: the partition holds them back.
            assertNull(peek(tb, newOnA.get(0)));
            assertNull(peek(ta, newOnB.get(0)));
            assertEquals("s1", peek(tb, moved).server(), "mpb still has the entry as it was");

            pair.heal();
            assertTrue(ProxyRunner.await(() -> newOnA.stream().allMatch(c -> peek(tb, c) != null), WAIT), "mpa's new entries on mpb");
            assertTrue(ProxyRunner.await(() -> newOnB.stream().allMatch(c -> peek(ta, c) != null), WAIT), "mpb's new entries on mpa");
            assertTrue(ProxyRunner.await(() -> peek(tb, moved) != null && "s2".equals(peek(tb, moved).server()), WAIT),
                    "the moved client on mpb");
            for (InetAddress c : old) {
                assertNull(peek(ta, c), c + " revived on mpa");
                assertNull(peek(tb, c), c + " revived on mpb");
            }
            // count() still counts expired slots until they are swept: the entries are checked one by one.
            for (InetAddress c : newOnA) {
                assertEquals("s2", peek(tb, c).server(), c + " on mpb");
            }
            for (InetAddress c : newOnB) {
                assertEquals("s1", peek(ta, c).server(), c + " on mpa");
            }
            assertTrue(peek(tb, newOnA.get(0)).remainingMillis() <= 15_000, "expiry travelled: " + peek(tb, newOnA.get(0)));
        }
    }

    /** Nodes mpa and mpb, each reaching the other through a {@link Partition}. */
    private static final class Pair implements AutoCloseable {
        final PeerNodes nodes;
        final Partition toA;
        final Partition toB;
        final ProxyRunner a;
        final ProxyRunner b;
        final StickTable ta;
        final StickTable tb;

        Pair(Path dir, String table) throws IOException {
            nodes = new PeerNodes(dir, "mpa", "mpb");
            toA = new Partition(nodes.peerPorts.get(0));
            toB = new Partition(nodes.peerPorts.get(1));
            nodes.reachAt.set(0, toA.port());
            nodes.reachAt.set(1, toB.port());
            a = nodes.start("mpa", table, "resync-timeout = 200ms");
            b = nodes.start("mpb", table, "resync-timeout = 10s");
            ta = PeerNodes.table(a);
            tb = PeerNodes.table(b);
        }

        void cut() {
            toA.cut();
            toB.cut();
        }

        void heal() {
            toA.heal();
            toB.heal();
        }

        void slow(boolean slow) {
            toA.slow(slow);
            toB.slow(slow);
        }

        @Override
        public void close() throws IOException {
            try (nodes; toA; toB; ProxyRunner first = a; ProxyRunner second = b) {
                // closed in reverse: the nodes, then the partitions and the servers
            }
        }
    }

    private static boolean connected(ProxyRunner node) {
        return node.proxy.peers().figures().get(0).connected();
    }

    private static InetAddress address(int i) throws IOException {
        return InetAddress.getByAddress(new byte[] {10, (byte) (100 + (i >> 16)), (byte) (i >> 8), (byte) i});
    }

    private static List<InetAddress> addresses(String prefix, int count) throws IOException {
        List<InetAddress> list = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            list.add(InetAddress.getByName(prefix + i));
        }
        return list;
    }

    private static StickTable.Entry peek(StickTable table, InetAddress client) {
        return table.peek(client);
    }
}
