package io.mailproxy.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.backend.Backend;
import io.mailproxy.backend.Load;
import io.mailproxy.backend.Server;
import io.mailproxy.config.Balance;
import io.mailproxy.config.ConfigLoader;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IntSummaryStatistics;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class BalancerTest {

    @TempDir
    Path dir;

    /**
     * Servers named a, b, c... with the given weights. Built through the configuration loader so
     * the test follows the settings records as they grow.
     */
    private List<Server> servers(Balance balance, int... weights) throws Exception {
        StringBuilder list = new StringBuilder();
        for (int i = 0; i < weights.length; i++) {
            list.append("{ name = ").append((char) ('a' + i)).append(", address = \"127.0.0.1:")
                    .append(20000 + i).append("\", weight = ").append(weights[i]).append(" }\n");
        }
        Path file = Files.writeString(dir.resolve("b" + System.nanoTime() + ".conf"), """
                mailproxy {
                  frontends { f { bind = ["127.0.0.1:10143"], backend = pool } }
                  backends { pool { balance = %s, servers = [
                %s
                  ] } }
                }
                """.formatted(balance.name().toLowerCase().replace('_', '-'), list));
        Backend backend = new Backend(ConfigLoader.load(file).backends().get("pool"));
        return backend.servers();
    }

    private static String names(Balancer<Server> balancer, int picks) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < picks; i++) {
            b.append(balancer.pick(null, Set.of()).name());
        }
        return b.toString();
    }

    // ---- round robin ----

    @Test
    void roundRobinHonoursWeightsExactly() throws Exception {
        List<Server> servers = servers(Balance.ROUNDROBIN, 1, 3);
        Balancer<Server> rr = Balancer.of(Balance.ROUNDROBIN, servers);
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 1000; i++) {
            counts.merge(rr.pick(null, Set.of()).name(), 1, Integer::sum);
        }
        assertEquals(Map.of("a", 250, "b", 750), counts);
    }

    @Test
    void roundRobinInterleavesSmoothly() throws Exception {
        // nginx's example: weights 5, 1, 1 give a a b a c a a, not a a a a a b c.
        Balancer<Server> rr = Balancer.of(Balance.ROUNDROBIN, servers(Balance.ROUNDROBIN, 5, 1, 1));
        assertEquals("aabacaa".repeat(3), names(rr, 21));
        // With 1:3, every window of four consecutive picks holds exactly one a.
        String seq = names(Balancer.of(Balance.ROUNDROBIN, servers(Balance.ROUNDROBIN, 1, 3)), 400);
        for (int i = 0; i + 4 <= seq.length(); i++) {
            String window = seq.substring(i, i + 4);
            assertEquals(1, window.chars().filter(c -> c == 'a').count(), "window " + i + ": " + window);
        }
    }

    @Test
    void equalWeightsAlternate() throws Exception {
        assertEquals("abcabcabc", names(Balancer.of(Balance.ROUNDROBIN, servers(Balance.ROUNDROBIN, 2, 2, 2)), 9));
    }

    /** Client i of a set of distinct IPv4 clients, so that {@code source} spreads like the others. */
    static InetSocketAddress client(int i) {
        return new InetSocketAddress(InetAddresses.v4(10, 1 + (i >> 16 & 0xFF), i >> 8 & 0xFF, i & 0xFF), 40000 + i % 20000);
    }

    @ParameterizedTest
    @EnumSource(Balance.class)
    void weightZeroIsNeverPicked(Balance balance) throws Exception {
        Balancer<Server> b = Balancer.of(balance, servers(balance, 0, 1, 0, 2));
        Set<String> picked = ConcurrentHashMap.newKeySet();
        for (int i = 0; i < 100; i++) {
            picked.add(b.pick(client(i), Set.of()).name());
        }
        // `first` ignores weights above 0 and always takes the first usable server.
        assertEquals(balance == Balance.FIRST ? Set.of("b") : Set.of("b", "d"), picked);
        assertNull(Balancer.of(balance, servers(balance, 0, 0)).pick(client(0), Set.of()));
    }

    @ParameterizedTest
    @EnumSource(Balance.class)
    void excludedServersAreSkipped(Balance balance) throws Exception {
        List<Server> servers = servers(balance, 1, 1, 1);
        Balancer<Server> b = Balancer.of(balance, servers);
        Server a = servers.get(0);
        Server c = servers.get(2);
        for (int i = 0; i < 20; i++) {
            assertSame(servers.get(1), b.pick(client(i), Set.of(a, c)));
        }
        assertNull(b.pick(client(0), Set.copyOf(servers)));
        // Negative control: without the exclusion the others are picked again.
        Set<Server> picked = new java.util.HashSet<>();
        for (int i = 0; i < 60; i++) {
            picked.add(b.pick(client(i), Set.of()));
        }
        assertEquals(balance == Balance.FIRST ? Set.of(a) : Set.copyOf(servers), picked);
    }

    // ---- least connections ----

    @Test
    void leastConnPicksTheLeastLoadedRelativeToWeight() throws Exception {
        List<Server> servers = servers(Balance.LEASTCONN, 1, 3);
        Server a = servers.get(0);
        Server b = servers.get(1);
        Balancer<Server> lc = Balancer.of(Balance.LEASTCONN, servers);
        Load.add(a);
        Load.add(b);
        Load.add(b);
        // a: 1 session per weight unit; b: 2/3.
        assertSame(b, lc.pick(null, Set.of()));
        Load.add(b);
        Load.add(b);
        // b: 4/3 per unit, more than a's 1.
        assertSame(a, lc.pick(null, Set.of()));
        assertSame(a, lc.pick(null, Set.of()));
    }

    @Test
    void leastConnFillsInProportionToWeight() throws Exception {
        List<Server> servers = servers(Balance.LEASTCONN, 1, 3);
        Balancer<Server> lc = Balancer.of(Balance.LEASTCONN, servers);
        for (int i = 0; i < 400; i++) {
            Load.add(lc.pick(null, Set.of()));
        }
        assertEquals(100, servers.get(0).activeSessions(), 1);
        assertEquals(300, servers.get(1).activeSessions(), 1);
    }

    @Test
    void leastConnRotatesTies() throws Exception {
        // Nobody acquires: every pick is a tie, and an idle pool must still spread.
        assertEquals("abcabcabc", names(Balancer.of(Balance.LEASTCONN, servers(Balance.LEASTCONN, 1, 1, 1)), 9));
        // Negative control: a loaded server leaves the rotation.
        List<Server> servers = servers(Balance.LEASTCONN, 1, 1, 1);
        Load.add(servers.get(1));
        assertEquals("acacac", names(Balancer.of(Balance.LEASTCONN, servers), 6));
    }

    // ---- static-rr ----

    @Test
    void staticRoundRobinHonoursWeightsExactlyAndSmoothly() throws Exception {
        List<Server> servers = servers(Balance.STATIC_RR, 1, 3);
        Map<String, Integer> counts = new HashMap<>();
        String seq = names(Balancer.of(Balance.STATIC_RR, servers), 1000);
        seq.chars().forEach(ch -> counts.merge(String.valueOf((char) ch), 1, Integer::sum));
        assertEquals(Map.of("a", 250, "b", 750), counts);
        assertEquals("aabacaa".repeat(3), names(Balancer.of(Balance.STATIC_RR, servers(Balance.STATIC_RR, 5, 1, 1)), 21));
    }

    @Test
    void staticRoundRobinRebuildsItsMapWhenAServerGoesDownAndComesBack() throws Exception {
        Backend backend = backend("static-rr", 1, 1, 2);
        Balancer<Server> b = backend.balancer();
        backend.markUp(backend.server("c"), false);
        // c's share goes to a and b evenly, not all to the server after it on the old map.
        assertEquals("ab".repeat(6), names(b, 12));
        backend.markUp(backend.server("c"), true);
        // Back with its full weight at once: half of every window of four.
        String seq = names(b, 40);
        for (int i = 0; i + 4 <= seq.length(); i += 4) {
            assertEquals(2, seq.substring(i, i + 4).chars().filter(ch -> ch == 'c').count(), seq);
        }
    }

    // ---- first ----

    @Test
    void firstTakesTheFirstUsableServerWhateverTheWeights() throws Exception {
        Backend backend = backend("first", 1, 256, 3);
        Balancer<Server> b = backend.balancer();
        assertEquals("aaaaaaaaaa", names(b, 10));
        backend.markUp(backend.server("a"), false);
        assertEquals("bbbbb", names(b, 5));
        backend.markUp(backend.server("b"), false);
        assertEquals("ccccc", names(b, 5));
        // The first one back takes everything again, in configuration order.
        backend.markUp(backend.server("a"), true);
        assertEquals("aaaaa", names(b, 5));
        // A retry goes to the next one.
        assertEquals("c", b.pick(client(1), Set.of(backend.server("a"))).name());
    }

    @Test
    void firstIgnoresLoad() throws Exception {
        List<Server> servers = servers(Balance.FIRST, 1, 1);
        Balancer<Server> b = Balancer.of(Balance.FIRST, servers);
        for (int i = 0; i < 50; i++) {
            Load.add(b.pick(client(i), Set.of()));
        }
        assertEquals(50, servers.get(0).activeSessions());
        assertEquals(0, servers.get(1).activeSessions());
    }

    // ---- random ----

    @Test
    void randomSplitsAnIdlePoolByWeight() throws Exception {
        List<Server> servers = servers(Balance.RANDOM, 1, 3);
        Balancer<Server> b = new RandomChoice<>(servers, false, RandomChoice.DEFAULT_DRAWS, seeded(7));
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 4000; i++) {
            counts.merge(b.pick(client(i), Set.of()).name(), 1, Integer::sum);
        }
        // Sessions end at once, so every comparison is a tie and the first draw, by weight, wins.
        assertEquals(1000, counts.get("a"), 100, counts.toString());
        assertEquals(3000, counts.get("b"), 100, counts.toString());
    }

    @Test
    void randomWithTwoChoicesKeepsLongSessionsEven() throws Exception {
        // 4,000 sessions that stay: two draws keep the four servers within a few sessions of each
        // other; the negative control, one draw (plain weighted random), spreads them far wider.
        int twoDraws = spreadOfLongSessions(2);
        int oneDraw = spreadOfLongSessions(1);
        assertTrue(twoDraws <= 8, "two draws: spread " + twoDraws);
        assertTrue(oneDraw >= 30, "one draw: spread " + oneDraw);
    }

    @Test
    void randomPrefersTheLessLoadedRelativeToWeight() throws Exception {
        List<Server> servers = servers(Balance.RANDOM, 1, 1);
        for (int i = 0; i < 10; i++) {
            Load.add(servers.get(0));
        }
        Balancer<Server> b = new RandomChoice<>(servers, false, RandomChoice.DEFAULT_DRAWS, seeded(3));
        int toLoaded = 0;
        for (int i = 0; i < 1000; i++) {
            toLoaded += b.pick(client(i), Set.of()) == servers.get(0) ? 1 : 0;
        }
        // Only when both draws land on the loaded server: about 1 in 4.
        assertEquals(250, toLoaded, 50);
    }

    /** Max minus min of the sessions held by four equal servers after 4,000 picks with {@code draws}. */
    private int spreadOfLongSessions(int draws) throws Exception {
        List<Server> servers = servers(Balance.RANDOM, 1, 1, 1, 1);
        Balancer<Server> b = new RandomChoice<>(servers, false, draws, seeded(11));
        for (int i = 0; i < 4000; i++) {
            Load.add(b.pick(client(i), Set.of()));
        }
        IntSummaryStatistics stats = servers.stream().mapToInt(Server::activeSessions).summaryStatistics();
        return stats.getMax() - stats.getMin();
    }

    private static Supplier<RandomGenerator> seeded(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return () -> r;
    }

    /** A backend named pool over servers a, b, c... with these weights, for state changes through markUp. */
    private Backend backend(String balance, int... weights) throws Exception {
        StringBuilder list = new StringBuilder();
        for (int i = 0; i < weights.length; i++) {
            list.append("{ name = ").append((char) ('a' + i)).append(", address = \"127.0.0.1:")
                    .append(20000 + i).append("\", weight = ").append(weights[i]).append(" }\n");
        }
        Path file = Files.writeString(dir.resolve("b" + System.nanoTime() + ".conf"), """
                mailproxy {
                  frontends { f { bind = ["127.0.0.1:10143"], backend = pool } }
                  backends { pool { balance = %s, health-check.type = tcp, servers = [
                %s
                  ] } }
                }
                """.formatted(balance, list));
        return new Backend(ConfigLoader.load(file).backends().get("pool"));
    }

    // ---- threads ----

    @Test
    void roundRobinIsExactUnderConcurrentPicks() throws Exception {
        List<Server> servers = servers(Balance.ROUNDROBIN, 1, 3);
        Balancer<Server> rr = Balancer.of(Balance.ROUNDROBIN, servers);
        Map<Server, AtomicLong> counts = new ConcurrentHashMap<>();
        runConcurrently(8, 10_000, () -> counts.computeIfAbsent(rr.pick(null, Set.of()), s -> new AtomicLong()).incrementAndGet());
        // 80,000 picks are 20,000 full rounds of 1 + 3: a lost update would break the exact split.
        assertEquals(20_000, counts.get(servers.get(0)).get());
        assertEquals(60_000, counts.get(servers.get(1)).get());
    }

    @Test
    void staticRoundRobinIsExactUnderConcurrentPicks() throws Exception {
        List<Server> servers = servers(Balance.STATIC_RR, 1, 3);
        Balancer<Server> rr = Balancer.of(Balance.STATIC_RR, servers);
        Map<Server, AtomicLong> counts = new ConcurrentHashMap<>();
        runConcurrently(8, 10_000, () -> counts.computeIfAbsent(rr.pick(null, Set.of()), s -> new AtomicLong()).incrementAndGet());
        assertEquals(20_000, counts.get(servers.get(0)).get());
        assertEquals(60_000, counts.get(servers.get(1)).get());
    }

    /** The lock-free balancers: concurrent picks from many threads always find a server. */
    @ParameterizedTest
    @EnumSource(value = Balance.class, names = {"FIRST", "SOURCE", "RANDOM"})
    void lockFreeBalancersNeverFailUnderConcurrentPicks(Balance balance) throws Exception {
        List<Server> servers = servers(balance, 1, 2, 1);
        Balancer<Server> b = Balancer.of(balance, servers);
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
        runConcurrently(8, 5_000, () -> {
            Server s = b.pick(client(n.incrementAndGet()), Set.of());
            assertNotNull(s);
            Load.add(s);
            Load.remove(s);
        });
        assertEquals(40_000, servers.stream().mapToLong(Server::totalSessions).sum());
    }

    @Test
    void leastConnUnderConcurrentPicksNeverReturnsNullAndBalances() throws Exception {
        List<Server> servers = servers(Balance.LEASTCONN, 1, 1, 2);
        Balancer<Server> lc = Balancer.of(Balance.LEASTCONN, servers);
        runConcurrently(8, 5_000, () -> {
            Server s = lc.pick(null, Set.of());
            assertNotNull(s);
            Load.add(s);
            Load.remove(s);
        });
        for (Server s : servers) {
            assertEquals(0, s.activeSessions(), s.name());
        }
        assertEquals(40_000, servers.stream().mapToLong(Server::totalSessions).sum());
        // Every server got a share.
        assertTrue(servers.stream().allMatch(s -> s.totalSessions() > 0), servers.toString());
    }

    private static void runConcurrently(int threads, int perThread, Runnable pick) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                futures.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < perThread; i++) {
                        pick.run();
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : futures) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
