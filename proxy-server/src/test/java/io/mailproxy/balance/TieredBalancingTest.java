package io.mailproxy.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.backend.Backend;
import io.mailproxy.backend.Load;
import io.mailproxy.backend.Server;
import io.mailproxy.checks.ServerCounts;
import io.mailproxy.config.ConfigLoader;
import io.mailproxy.config.ConfigurationException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The balancers with health states: DOWN servers get nothing, backups only while no normal server
 * is usable (the first one, or all with {@code all-backups}), weights still hold. Settings come from
 * real configuration text, as a user writes it.
 */
class TieredBalancingTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"roundrobin", "leastconn"})
    void downServerGetsNoNewSession(String balance) throws Exception {
        Backend b = backend(balance, false, "{ name = s1, address = \"127.0.0.1:1001\" }",
                "{ name = s2, address = \"127.0.0.1:1002\" }", "{ name = s3, address = \"127.0.0.1:1003\" }");
        b.markUp(b.server("s2"), false);
        Map<String, Integer> picks = pick(b, 30);
        assertEquals(Map.of("s1", 15, "s3", 15), picks);
    }

    @ParameterizedTest
    @ValueSource(strings = {"roundrobin", "leastconn"})
    void serverBackUpTakesSessionsAgain(String balance) throws Exception {
        Backend b = backend(balance, false, "{ name = s1, address = \"127.0.0.1:1001\" }",
                "{ name = s2, address = \"127.0.0.1:1002\" }");
        b.markUp(b.server("s2"), false);
        assertEquals(Map.of("s1", 4), pick(b, 4));
        b.markUp(b.server("s2"), true);
        assertEquals(Map.of("s1", 2, "s2", 2), pick(b, 4));
    }

    /** Negative control for the tiers: with every normal server UP, the backups get nothing. */
    @ParameterizedTest
    @ValueSource(strings = {"roundrobin", "leastconn"})
    void backupsIdleWhileANormalServerIsUp(String balance) throws Exception {
        Backend b = fourServers(balance, false);
        assertEquals(Map.of("s1", 10, "s2", 10), pick(b, 20));
        b.markUp(b.server("s1"), false);
        assertEquals(Map.of("s2", 20), pick(b, 20));
    }

    @ParameterizedTest
    @ValueSource(strings = {"roundrobin", "leastconn"})
    void firstBackupOnlyWhenNoNormalServerIsUp(String balance) throws Exception {
        Backend b = fourServers(balance, false);
        assertEquals(new ServerCounts(1, 2), b.markUp(b.server("s1"), false));
        assertEquals(new ServerCounts(0, 2), b.markUp(b.server("s2"), false));
        assertEquals(Map.of("b1", 20), pick(b, 20));
        // the first *usable* backup, in configuration order
        assertEquals(new ServerCounts(0, 1), b.markUp(b.server("b1"), false));
        assertEquals(Map.of("b2", 20), pick(b, 20));
        // a normal server back: the backups are left at once
        assertEquals(new ServerCounts(1, 1), b.markUp(b.server("s2"), true));
        assertEquals(Map.of("s2", 20), pick(b, 20));
    }

    @ParameterizedTest
    @ValueSource(strings = {"roundrobin", "leastconn"})
    void allBackupsSpreadsOverEveryBackup(String balance) throws Exception {
        Backend b = fourServers(balance, true);
        b.markUp(b.server("s1"), false);
        b.markUp(b.server("s2"), false);
        assertEquals(Map.of("b1", 10, "b2", 10), pick(b, 20));
    }

    @Test
    void weightsHoldAmongTheServersLeft() throws Exception {
        Backend b = backend("roundrobin", false, "{ name = s1, address = \"127.0.0.1:1001\", weight = 3 }",
                "{ name = s2, address = \"127.0.0.1:1002\", weight = 1 }",
                "{ name = s3, address = \"127.0.0.1:1003\", weight = 5 }");
        b.markUp(b.server("s3"), false);
        assertEquals(Map.of("s1", 30, "s2", 10), pick(b, 40));
    }

    @Test
    void leastConnWeighsActiveSessions() throws Exception {
        Backend b = backend("leastconn", false, "{ name = s1, address = \"127.0.0.1:1001\", weight = 2 }",
                "{ name = s2, address = \"127.0.0.1:1002\", weight = 1 }",
                "{ name = s3, address = \"127.0.0.1:1003\", weight = 1 }");
        b.markUp(b.server("s2"), false);
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (int i = 0; i < 30; i++) {
            Server s = b.balancer().pick(null, Set.of());
            Load.add(s); // sessions stay open: leastconn sees them
            counts.merge(s.name(), 1, Integer::sum);
        }
        assertEquals(Map.of("s1", 20, "s3", 10), counts);
    }

    /** HAProxy does not count a weight-0 server as usable: the backups take over. */
    @Test
    void weightZeroNormalServerDoesNotHoldOffBackups() throws Exception {
        Backend b = backend("roundrobin", false, "{ name = s1, address = \"127.0.0.1:1001\", weight = 0 }",
                "{ name = b1, address = \"127.0.0.1:1002\", backup = true }");
        assertEquals(new ServerCounts(0, 1), b.counts());
        assertEquals(Map.of("b1", 5), pick(b, 5));
    }

    @ParameterizedTest
    @ValueSource(strings = {"roundrobin", "leastconn"})
    void everythingDownLeavesNoServer(String balance) throws Exception {
        Backend b = fourServers(balance, true);
        for (String name : new String[] {"s1", "s2", "b1", "b2"}) {
            b.markUp(b.server(name), false);
        }
        assertEquals(new ServerCounts(0, 0), b.counts());
        assertNull(b.balancer().pick(null, Set.of()));
    }

    @Test
    void triedServersAreSkippedWithinTheTier() throws Exception {
        Backend b = fourServers("roundrobin", false);
        // the session tried s1; s2 is next; with both tried the backups are still not used
        assertEquals("s2", b.balancer().pick(null, Set.of(b.server("s1"))).name());
        assertNull(b.balancer().pick(null, Set.of(b.server("s1"), b.server("s2"))));
    }

    @Test
    void startDownNeedsAPassFirst() throws Exception {
        Backend b = load("""
                mailproxy.backends.b {
                  servers = [{ name = s1, address = "127.0.0.1:1001" }]
                  health-check { type = imap, start = down }
                }
                """);
        assertEquals(new ServerCounts(0, 0), b.counts());
        assertNull(b.balancer().pick(null, Set.of()));
        b.markUp(b.server("s1"), true);
        assertEquals("s1", b.balancer().pick(null, Set.of()).name());
    }

    @Test
    void withoutChecksServersAreUp() throws Exception {
        Backend b = load("mailproxy.backends.b.servers = [{ name = s1, address = \"127.0.0.1:1001\" }]\n");
        assertTrue(b.server("s1").isUp());
        assertEquals(new ServerCounts(1, 0), b.counts());
    }

    // ---- the other algorithms: the same tiers, whatever picks within them ----

    @ParameterizedTest
    @ValueSource(strings = {"static-rr", "first", "source", "source\n  hash-type = consistent", "random"})
    void everyAlgorithmKeepsToTheTier(String balance) throws Exception {
        Backend b = fourServers(balance, false);
        boolean first = balance.equals("first");
        assertEquals(first ? Set.of("s1") : Set.of("s1", "s2"), picked(b, Set.of()));
        b.markUp(b.server("s1"), false);
        assertEquals(Set.of("s2"), picked(b, Set.of()));
        b.markUp(b.server("s2"), false);
        assertEquals(Set.of("b1"), picked(b, Set.of()));
        b.markUp(b.server("b1"), false);
        assertEquals(Set.of("b2"), picked(b, Set.of()));
        b.markUp(b.server("s2"), true);
        assertEquals(Set.of("s2"), picked(b, Set.of()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"static-rr", "first", "source", "source\n  hash-type = consistent", "random"})
    void everyAlgorithmSpreadsOverAllBackups(String balance) throws Exception {
        Backend b = fourServers(balance, true);
        b.markUp(b.server("s1"), false);
        b.markUp(b.server("s2"), false);
        assertEquals(balance.equals("first") ? Set.of("b1") : Set.of("b1", "b2"), picked(b, Set.of()));
        for (String name : new String[] {"b1", "b2"}) {
            b.markUp(b.server(name), false);
        }
        assertNull(b.balancer().pick(client(1), Set.of()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"static-rr", "first", "source", "source\n  hash-type = consistent", "random"})
    void everyAlgorithmSkipsTriedServersWithinTheTier(String balance) throws Exception {
        Backend b = fourServers(balance, false);
        assertEquals(Set.of("s2"), picked(b, Set.of(b.server("s1"))));
        assertNull(b.balancer().pick(client(1), Set.of(b.server("s1"), b.server("s2"))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"static-rr", "first", "source", "source\n  hash-type = consistent", "random"})
    void everyAlgorithmLeavesWeightZeroAlone(String balance) throws Exception {
        Backend b = backend(balance, false, "{ name = s1, address = \"127.0.0.1:1001\", weight = 0 }",
                "{ name = s2, address = \"127.0.0.1:1002\" }",
                "{ name = b1, address = \"127.0.0.1:1003\", backup = true }");
        assertEquals(Set.of("s2"), picked(b, Set.of()));
        b.markUp(b.server("s2"), false);
        assertEquals(Set.of("b1"), picked(b, Set.of()));
    }

    /** Names picked for 200 distinct clients, each session ending at once. */
    private static Set<String> picked(Backend b, Set<Server> exclude) {
        Set<String> names = new java.util.TreeSet<>();
        for (int i = 0; i < 200; i++) {
            Server s = b.balancer().pick(client(i), exclude);
            Load.add(s);
            Load.remove(s);
            names.add(s.name());
        }
        return names;
    }

    private static java.net.InetSocketAddress client(int i) {
        return BalancerTest.client(i);
    }

    private Backend fourServers(String balance, boolean allBackups) throws Exception {
        return backend(balance, allBackups, "{ name = s1, address = \"127.0.0.1:1001\" }",
                "{ name = s2, address = \"127.0.0.1:1002\" }",
                "{ name = b1, address = \"127.0.0.1:1003\", backup = true }",
                "{ name = b2, address = \"127.0.0.1:1004\", backup = true }");
    }

    private static Map<String, Integer> pick(Backend b, int n) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            Server s = b.balancer().pick(null, Set.of());
            // leastconn: the session ends at once, so only the round-robin tie-break decides
            Load.add(s);
            Load.remove(s);
            counts.merge(s.name(), 1, Integer::sum);
        }
        return counts;
    }

    private Backend backend(String balance, boolean allBackups, String... servers) throws Exception {
        return load("mailproxy.backends.b {\n  balance = " + balance + "\n  all-backups = " + allBackups
                + "\n  health-check.type = tcp\n  servers = [\n    " + String.join(",\n    ", servers) + "\n  ]\n}\n");
    }

    private Backend load(String backendText) throws IOException, ConfigurationException {
        Path file = dir.resolve("mailproxy.conf");
        Files.writeString(file, "mailproxy.frontends.f { bind = [\"127.0.0.1:10143\"], backend = b }\n" + backendText);
        return new Backend(ConfigLoader.load(file).backends().get("b"));
    }
}
