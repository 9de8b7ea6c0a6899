package io.mailproxy.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.backend.Backend;
import io.mailproxy.backend.Server;
import io.mailproxy.config.ConfigLoader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code balance = source} with both hash types: a client address keeps its server, addresses
 * spread, IPv6 works, and how many clients move when the set of servers changes.
 */
class SourceHashTest {

    private static final int CLIENTS = 1000;
    /** AddressHash of 127.0.0.1 as first released. */
    private static final long GOLDEN_127_0_0_1 = 2272322355229309229L;

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"map-based", "consistent"})
    void sameAddressSameServerWhateverThePort(String hashType) throws Exception {
        Backend b = backend(hashType, 4);
        for (int i = 0; i < 100; i++) {
            InetAddress address = InetAddresses.v4(192, 0, 2, i);
            Server first = b.balancer().pick(new InetSocketAddress(address, 40000), Set.of());
            for (int port = 40001; port < 40010; port++) {
                assertEquals(first, b.balancer().pick(new InetSocketAddress(address, port), Set.of()), address.toString());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"map-based", "consistent"})
    void addressesSpreadOverTheServers(String hashType) throws Exception {
        Map<String, Integer> counts = counts(backend(hashType, 4), SourceHashTest::v4);
        // Map-based is even within hashing noise; the ring (16 points a server) is coarser.
        int min = hashType.equals("map-based") ? 200 : 120;
        assertEquals(4, counts.size(), counts.toString());
        counts.values().forEach(n -> assertTrue(n >= min, counts.toString()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"map-based", "consistent"})
    void ipv6AddressesSpreadAndStick(String hashType) throws Exception {
        Backend b = backend(hashType, 4);
        Map<String, Integer> counts = counts(b, SourceHashTest::v6);
        assertEquals(4, counts.size(), counts.toString());
        counts.values().forEach(n -> assertTrue(n >= 120, counts.toString()));
        assertEquals(assignment(b, SourceHashTest::v6), assignment(b, SourceHashTest::v6));
        // Only the last bits differ between these addresses: all of them count.
        Server s = b.balancer().pick(new InetSocketAddress(InetAddresses.v6(0, 1), 993), Set.of());
        assertEquals(s, b.balancer().pick(new InetSocketAddress(InetAddresses.v6(0, 1), 12345), Set.of()));
    }

    @Test
    void consistentHashingMovesAboutAFifthWhenAFifthServerIsAdded() throws Exception {
        List<String> before = assignment(backend("consistent", 4), SourceHashTest::v4);
        List<String> after = assignment(backend("consistent", 5), SourceHashTest::v4);
        int moved = 0;
        for (int i = 0; i < CLIENTS; i++) {
            if (!before.get(i).equals(after.get(i))) {
                moved++;
                // Nobody moves between the old servers: every moved client went to the new one.
                assertEquals("s5", after.get(i), "client " + i);
            }
        }
        assertTrue(moved >= CLIENTS / 10 && moved <= CLIENTS * 3 / 10, moved + " of " + CLIENTS + " moved");
    }

    /** Negative control: map-based hashing moves most clients when a server is added. */
    @Test
    void mapBasedMovesMostClientsWhenAFifthServerIsAdded() throws Exception {
        List<String> before = assignment(backend("map-based", 4), SourceHashTest::v4);
        List<String> after = assignment(backend("map-based", 5), SourceHashTest::v4);
        int moved = 0;
        for (int i = 0; i < CLIENTS; i++) {
            moved += before.get(i).equals(after.get(i)) ? 0 : 1;
        }
        assertTrue(moved > CLIENTS / 2, moved + " of " + CLIENTS + " moved");
    }

    @Test
    void consistentHashingMovesOnlyTheClientsOfAServerThatGoesDown() throws Exception {
        Backend b = backend("consistent", 4);
        List<String> before = assignment(b, SourceHashTest::v4);
        b.markUp(b.server("s2"), false);
        List<String> down = assignment(b, SourceHashTest::v4);
        for (int i = 0; i < CLIENTS; i++) {
            if (!before.get(i).equals("s2")) {
                assertEquals(before.get(i), down.get(i), "client " + i);
            } else {
                assertNotEquals("s2", down.get(i));
            }
        }
        // Back UP: every client returns to where it was.
        b.markUp(b.server("s2"), true);
        assertEquals(before, assignment(b, SourceHashTest::v4));
    }

    /** Negative control: map-based hashing moves clients of the servers that stayed UP too. */
    @Test
    void mapBasedMovesOtherClientsWhenAServerGoesDown() throws Exception {
        Backend b = backend("map-based", 4);
        List<String> before = assignment(b, SourceHashTest::v4);
        b.markUp(b.server("s2"), false);
        List<String> down = assignment(b, SourceHashTest::v4);
        int movedFromOthers = 0;
        for (int i = 0; i < CLIENTS; i++) {
            if (!before.get(i).equals("s2") && !before.get(i).equals(down.get(i))) {
                movedFromOthers++;
            }
        }
        assertTrue(movedFromOthers > CLIENTS / 4, movedFromOthers + " clients of UP servers moved");
    }

    @ParameterizedTest
    @ValueSource(strings = {"map-based", "consistent"})
    void aRetryGoesToAnotherServer(String hashType) throws Exception {
        Backend b = backend(hashType, 3);
        for (int i = 0; i < 100; i++) {
            InetSocketAddress client = v4(i);
            Server first = b.balancer().pick(client, Set.of());
            Server second = b.balancer().pick(client, Set.of(first));
            Server third = b.balancer().pick(client, Set.of(first, second));
            assertEquals(3, Set.of(first, second, third).size());
            assertEquals(null, b.balancer().pick(client, Set.copyOf(b.servers())));
            // The retry is itself stable: the same client retries on the same server.
            assertEquals(second, b.balancer().pick(client, Set.of(first)));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"map-based", "consistent"})
    void weightsShiftTheShare(String hashType) throws Exception {
        Backend b = load(hashType, "{ name = s1, address = \"127.0.0.1:1001\", weight = 1 }",
                "{ name = s2, address = \"127.0.0.1:1002\", weight = 3 }");
        Map<String, Integer> counts = counts(b, SourceHashTest::v4);
        assertTrue(counts.get("s2") > 2 * counts.get("s1"), counts.toString());
    }

    @Test
    void withoutAnIpAddressItIsRoundRobin() throws Exception {
        Backend b = backend("consistent", 3);
        StringBuilder names = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            names.append(b.balancer().pick(null, Set.of()).name()).append(' ');
        }
        assertEquals("s1 s2 s3 s1 s2 s3 ", names.toString());
        // An unresolved address carries no IP either.
        assertTrue(b.balancer().pick(InetSocketAddress.createUnresolved("client.example", 1), Set.of()) != null);
    }

    @Test
    void theRingDependsOnNamesNotOnTheOrderOfServers() throws Exception {
        Backend forward = load("consistent", server(1), server(2), server(3));
        Backend reversed = load("consistent", server(3), server(2), server(1));
        assertEquals(assignment(forward, SourceHashTest::v4), assignment(reversed, SourceHashTest::v4));
    }

    @Test
    void hashIsStableAcrossRuns() {
        // Unseeded on purpose: these values must never change between builds or restarts, or every
        // client would move after an upgrade.
        assertEquals(AddressHash.of(new byte[] {10, 0, 0, 1}), AddressHash.of(new byte[] {10, 0, 0, 1}));
        assertNotEquals(AddressHash.of(new byte[] {10, 0, 0, 1}), AddressHash.of(new byte[] {10, 0, 0, 3}));
        assertNotEquals(AddressHash.of(new byte[4]), AddressHash.of(new byte[16]));
        assertEquals(GOLDEN_127_0_0_1, AddressHash.of(new byte[] {127, 0, 0, 1}));
    }

    static InetSocketAddress v4(int i) {
        return new InetSocketAddress(InetAddresses.v4(10, 20 + i / 65536, i / 256 % 256, i % 256), 50000);
    }

    static InetSocketAddress v6(int i) {
        return new InetSocketAddress(InetAddresses.v6(i / 65536, i % 65536), 50000);
    }

    private static List<String> assignment(Backend b, IntFunction<InetSocketAddress> client) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            out.add(b.balancer().pick(client.apply(i), Set.of()).name());
        }
        return out;
    }

    private static Map<String, Integer> counts(Backend b, IntFunction<InetSocketAddress> client) {
        Map<String, Integer> counts = new HashMap<>();
        assignment(b, client).forEach(name -> counts.merge(name, 1, Integer::sum));
        return counts;
    }

    private static String server(int i) {
        return "{ name = s" + i + ", address = \"127.0.0.1:" + (1000 + i) + "\" }";
    }

    /** Servers s1..sN of weight 1: the same names and addresses whatever N, as when one is added. */
    private Backend backend(String hashType, int servers) throws Exception {
        String[] list = new String[servers];
        for (int i = 0; i < servers; i++) {
            list[i] = server(i + 1);
        }
        return load(hashType, list);
    }

    private Backend load(String hashType, String... servers) throws Exception {
        Path file = dir.resolve("mailproxy" + System.nanoTime() + ".conf");
        Files.writeString(file, "mailproxy.frontends.f { bind = [\"127.0.0.1:10143\"], backend = b }\n"
                + "mailproxy.backends.b {\n  balance = source\n  hash-type = " + hashType
                + "\n  health-check.type = tcp\n  servers = [\n    " + String.join(",\n    ", servers) + "\n  ]\n}\n");
        return new Backend(ConfigLoader.load(file).backends().get("b"));
    }
}
