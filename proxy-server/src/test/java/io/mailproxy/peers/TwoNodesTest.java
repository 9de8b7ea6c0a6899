package io.mailproxy.peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.log.LogCapture;
import io.mailproxy.session.ProxyRunner;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two mailproxy nodes in this JVM sharing a table over the peers protocol. */
class TwoNodesTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String TABLE = "size = 1k, expire = 30m, peers = true";

    @TempDir
    Path dir;

    @Test
    void aClientStuckThroughOneNodeLandsOnTheSameServerThroughTheOther() throws Exception {
        try (PeerNodes nodes = new PeerNodes(dir, "mpa", "mpb");
             ProxyRunner a = nodes.start("mpa", TABLE, "resync-timeout = 200ms");
             ProxyRunner b = nodes.start("mpb", TABLE, "resync-timeout = 5s")) {
            Map<String, String> viaA = new LinkedHashMap<>();
            for (int i = 10; i < 30; i++) {
                viaA.put("127.0.0." + i, PeerNodes.serverFor(a, "127.0.0." + i));
            }
            assertTrue(viaA.containsValue("s1") && viaA.containsValue("s2"), viaA.toString());
            for (String client : viaA.keySet()) {
                assertTrue(ProxyRunner.await(() -> entry(b, client) != null, WAIT), client + " reached mpb's table");
            }
            // B's own round robin would alternate from s1: the same clients land where A put them.
            for (Map.Entry<String, String> e : viaA.entrySet()) {
                assertEquals(e.getValue(), PeerNodes.serverFor(b, e.getKey()), e.getKey() + " through mpb");
            }
        }
    }

    /** Negative control: without peers = true the second node knows nothing of the first's clients. */
    @Test
    void withoutPeersTheNodesDisagree() throws Exception {
        String table = "size = 1k, expire = 30m, peers = false";
        try (PeerNodes nodes = new PeerNodes(dir, "mpa", "mpb");
             ProxyRunner a = nodes.start("mpa", table, "resync-timeout = 200ms");
             ProxyRunner b = nodes.start("mpb", table, "resync-timeout = 5s")) {
            int differ = 0;
            for (int i = 10; i < 30; i++) {
                String client = "127.0.0." + i;
                String first = PeerNodes.serverFor(a, client);
                PeerNodes.serverFor(a, "127.0.1." + i); // moves A's round robin on, as other clients do
                assertNull(entry(b, client), client + " in mpb's table before it came through mpb");
                if (!first.equals(PeerNodes.serverFor(b, client))) {
                    differ++;
                }
            }
            assertTrue(differ >= 5, differ + " of 20 clients landed elsewhere through mpb");
        }
    }

    @Test
    void aRestartedNodeIsTaughtTheWholeTableBeforeItAccepts() throws Exception {
        try (PeerNodes nodes = new PeerNodes(dir, "mpa", "mpb");
             ProxyRunner a = nodes.start("mpa", TABLE, "resync-timeout = 200ms")) {
            ProxyRunner b = nodes.start("mpb", TABLE, "resync-timeout = 10s");
            b.close();
            for (int i = 0; i < 300; i++) {
                PeerNodes.table(a).store(InetAddress.getByName("10.1." + (i / 200) + "." + (i % 200)), i % 2 == 0 ? "s1" : "s2");
            }
            try (LogCapture peersLog = LogCapture.attach(Peers.class.getName());
                 ProxyRunner again = nodes.start("mpb", TABLE, "resync-timeout = 10s")) {
                // start() returned: the frontend listens, so the resync is over.
                assertEquals(300, PeerNodes.table(again).count());
                assertEquals("s2", entry(again, "10.1.0.1").server());
                assertTrue(peersLog.lines().stream().anyMatch(l -> l.contains("resync done") && l.contains("taught by mpa")),
                        peersLog.lines().toString());
            }
        }
    }

    /** Negative control: with resync-timeout = 0s the restarted node asks nobody and starts without A's old entries. */
    @Test
    void withoutResyncARestartedNodeStartsEmpty() throws Exception {
        try (PeerNodes nodes = new PeerNodes(dir, "mpa", "mpb");
             ProxyRunner a = nodes.start("mpa", TABLE, "resync-timeout = 200ms")) {
            ProxyRunner b = nodes.start("mpb", TABLE, "resync-timeout = 0s");
            PeerNodes.table(a).store(InetAddress.getByName("10.2.0.1"), "s2");
            assertTrue(ProxyRunner.await(() -> entry(b, "10.2.0.1") != null, WAIT));
            b.close();
            try (ProxyRunner again = nodes.start("mpb", TABLE, "resync-timeout = 0s")) {
                assertTrue(ProxyRunner.await(() -> again.proxy.peers().figures().get(0).connected(), WAIT));
                // A replays only what B did not acknowledge: nothing.
                PeerNodes.table(a).store(InetAddress.getByName("10.2.0.2"), "s1");
                assertTrue(ProxyRunner.await(() -> entry(again, "10.2.0.2") != null, WAIT));
                assertNull(entry(again, "10.2.0.1"));
            }
        }
    }

    @Test
    void updatesMadeWhileAPeerIsAwayArriveWhenItComesBack() throws Exception {
        try (PeerNodes nodes = new PeerNodes(dir, "mpa", "mpb");
             ProxyRunner a = nodes.start("mpa", TABLE, "resync-timeout = 200ms")) {
            ProxyRunner b = nodes.start("mpb", TABLE, "resync-timeout = 0s");
            PeerNodes.table(a).store(InetAddress.getByName("10.3.0.1"), "s1");
            assertTrue(ProxyRunner.await(() -> entry(b, "10.3.0.1") != null, WAIT));
            b.close();
            for (int i = 2; i < 50; i++) {
                PeerNodes.table(a).store(InetAddress.getByName("10.3.0." + i), "s2");
            }
            try (ProxyRunner again = nodes.start("mpb", TABLE, "resync-timeout = 0s")) {
                // No resync asked: these come from A's replay after B's last acknowledgement.
                assertTrue(ProxyRunner.await(() -> PeerNodes.table(again).count() == 48, WAIT),
                        "entries on mpb: " + PeerNodes.table(again).count());
                assertNull(entry(again, "10.3.0.1"), "acknowledged before B went away: not replayed");
            }
        }
    }

    @Test
    void showPeersHasHaproxysShape() throws Exception {
        try (PeerNodes nodes = new PeerNodes(dir, "mpa", "mpb");
             ProxyRunner a = nodes.start("mpa", TABLE, "resync-timeout = 200ms");
             ProxyRunner b = nodes.start("mpb", TABLE, "resync-timeout = 5s")) {
            PeerNodes.serverFor(a, "127.0.0.5");
            assertTrue(ProxyRunner.await(() -> entry(b, "127.0.0.5") != null, WAIT));
            String show = a.proxy.peers().showPeers();
            assertTrue(show.matches("(?s)0x\\p{XDigit}+: \\[\\d\\d/\\w{3}/\\d{4}:\\d\\d:\\d\\d:\\d\\d\\] id=peers disabled=0 flags=0x23 resync_timeout=<PAST> .*"), show);
            assertTrue(show.contains(": id=mpa(local,inactive) addr=127.0.0.1:" + nodes.peerPorts.get(0)), show);
            assertTrue(show.contains(": id=mpb(remote,active) addr=127.0.0.1:" + nodes.peerPorts.get(1) + " last_status=ESTA"), show);
            assertTrue(show.contains(" id=users update=1 localupdate=1 "), show);
            PeerFigures f = a.proxy.peers().figures().get(0);
            assertEquals("mpb", f.name());
            assertTrue(f.connected());
            assertEquals(1, f.updatesSent(), f.toString());
            assertTrue(ProxyRunner.await(() -> a.proxy.peers().figures().get(0).updatesAcknowledged() == 1, WAIT));
        }
    }

    private static io.mailproxy.stick.StickTable.Entry entry(ProxyRunner node, String client) {
        try {
            return PeerNodes.entry(node, client);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
