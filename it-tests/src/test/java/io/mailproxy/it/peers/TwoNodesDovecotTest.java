package io.mailproxy.it.peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.dovecot.Dovecot;
import io.mailproxy.it.FreePorts;
import io.mailproxy.log.LogCapture;
import io.mailproxy.peers.Peers;
import io.mailproxy.session.ProxyRunner;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two mailproxy nodes, {@code mpa} and {@code mpb}, sharing table {@code users} over the peers
 * protocol in front of two real Dovecots: 100 client addresses (127.0.0.10 to 127.0.0.109) that
 * came through one node land on the same Dovecot through the other, as the Dovecots' own logs
 * show by the client address mailproxy's PROXY header gave them ({@code rip=}).
 *
 * <p>Not tagged {@code dovecot}: what is tested is mailproxy's table, not Dovecot's behaviour, so
 * one Dovecot version is enough.
 */
class TwoNodesDovecotTest {

    private static final int CLIENTS = 100;
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Pattern RIP = Pattern.compile("rip=(127\\.0\\.0\\.\\d+),");

    @TempDir
    static Path dir;

    private static Dovecot pd1;
    private static Dovecot pd2;

    @BeforeAll
    static void startDovecots() throws Exception {
        Thread second = new Thread(() -> pd2 = Dovecot.start("pd2"));
        second.start();
        pd1 = Dovecot.start("pd1");
        second.join();
        if (pd2 == null) {
            throw new IllegalStateException("Dovecot pd2 did not start");
        }
    }

    @AfterAll
    static void stopDovecots() {
        if (pd1 != null) {
            pd1.close();
        }
        if (pd2 != null) {
            pd2.close();
        }
    }

    @Test
    void clientsLandOnTheSameDovecotThroughEitherNodeAndAfterARestart() throws Exception {
        int peerA = FreePorts.next();
        int peerB = FreePorts.next();
        try (ProxyRunner a = node("mpa", peerA, "mpb", peerB, true, "200ms")) {
            ProxyRunner b = node("mpb", peerB, "mpa", peerA, true, "10s");
            try {
                Marks marks = new Marks();
                sessions(a, clients());
                assertTrue(ProxyRunner.await(() -> table(b) == CLIENTS, WAIT), "mpb learned " + table(b) + " entries");
                // Reversed: round robin alone would send every client to the other Dovecot (see the control).
                sessions(b, reversed());
                assertEachClientOnOneDovecot(marks.since(2 * CLIENTS));
            } finally {
                b.close();
            }

            try (LogCapture peersLog = LogCapture.attach(Peers.class.getName());
                 ProxyRunner again = node("mpb", peerB, "mpa", peerA, true, "10s")) {
                // start() returned: mpb listens for clients, so it was taught before it did.
                assertEquals(CLIENTS, table(again), "entries when mpb's frontend opened");
                assertTrue(peersLog.lines().stream().anyMatch(l -> l.contains("resync done") && l.contains("taught by mpa")),
                        peersLog.lines().toString());
                Marks marks = new Marks();
                sessions(again, reversed());
                sessions(a, clients());
                assertEachClientOnOneDovecot(marks.since(2 * CLIENTS));
            }
        }
    }

    /** Negative control: without peers, the clients through mpb in reversed order land on the other Dovecot. */
    @Test
    void withoutPeersTheClientsSplit() throws Exception {
        int peerA = FreePorts.next();
        int peerB = FreePorts.next();
        try (ProxyRunner a = node("mpa", peerA, "mpb", peerB, false, "200ms");
             ProxyRunner b = node("mpb", peerB, "mpa", peerA, false, "200ms")) {
            Marks marks = new Marks();
            sessions(a, clients());
            sessions(b, reversed());
            long split = marks.since(2 * CLIENTS).values().stream().filter(m -> m.size() > 1).count();
            assertTrue(split > CLIENTS / 2, split + " of " + CLIENTS + " clients in both Dovecots' logs");
        }
    }

    private static void assertEachClientOnOneDovecot(Map<String, Map<String, Long>> rips) {
        assertEquals(CLIENTS, rips.size(), rips.keySet().toString());
        rips.forEach((rip, perDovecot) -> assertEquals(1, perDovecot.size(), rip + " in the logs of " + perDovecot));
        assertTrue(rips.values().stream().anyMatch(m -> m.containsKey("pd1"))
                && rips.values().stream().anyMatch(m -> m.containsKey("pd2")), "both Dovecots used: " + rips);
    }

    private static ProxyRunner node(String name, int peerPort, String other, int otherPort, boolean synced, String resync)
            throws IOException {
        return ProxyRunner.start(dir, """
                frontends { imap { bind = ["127.0.0.1:%%PORT%%"], protocol = imap, backend = imap } }
                stick-tables { users { size = 10k, expire = 30m, peers = %s } }
                backends { imap {
                  balance = roundrobin, send-proxy = v2, stick-table = users
                  servers = [{ name = pd1, address = "127.0.0.1:%d" }, { name = pd2, address = "127.0.0.1:%d" }]
                } }
                peers { local-name = %s, bind = "127.0.0.1:%d", resync-timeout = %s
                        nodes = [{ name = %s, address = "127.0.0.1:%d" }] }
                """.formatted(synced, pd1.ports().imapHaproxy(), pd2.ports().imapHaproxy(), name, peerPort, resync,
                other, otherPort).replace("%%PORT%%", "%PORT%"));
    }

    private static int table(ProxyRunner node) {
        return node.proxy.backends().get("imap").stickTable().count();
    }

    private static List<String> clients() {
        List<String> list = new ArrayList<>();
        for (int i = 10; i < 10 + CLIENTS; i++) {
            list.add("127.0.0." + i);
        }
        return list;
    }

    private static List<String> reversed() {
        List<String> list = clients();
        Collections.reverse(list);
        return list;
    }

    /** A greeting and a logout from each client, one after the other. */
    private static void sessions(ProxyRunner node, List<String> clients) {
        for (String client : clients) {
            try (Socket s = node.connect(client)) {
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
                String greeting = in.readLine();
                assertTrue(greeting != null && greeting.startsWith("* OK"), client + ": " + greeting);
                s.getOutputStream().write("a1 LOGOUT\r\n".getBytes(StandardCharsets.US_ASCII));
                while (in.readLine() != null) {
                    // until Dovecot closes after its goodbye
                }
            } catch (IOException e) {
                throw new UncheckedIOException(client, e);
            }
        }
    }

    /** Where each Dovecot's log stood when made. */
    private static final class Marks {
        private final int pd1Lines = pd1.logLines().size();
        private final int pd2Lines = pd2.logLines().size();

        /** Client address to (Dovecot to lines naming it) since the marks, once there are {@code sessions} such lines. */
        Map<String, Map<String, Long>> since(int sessions) {
            assertTrue(ProxyRunner.await(() -> rips(pd1, pd1Lines).size() + rips(pd2, pd2Lines).size() >= sessions, WAIT),
                    sessions + " client lines in the Dovecots' logs");
            Map<String, Map<String, Long>> out = new LinkedHashMap<>();
            for (Dovecot d : List.of(pd1, pd2)) {
                for (String rip : rips(d, d == pd1 ? pd1Lines : pd2Lines)) {
                    out.computeIfAbsent(rip, k -> new LinkedHashMap<>()).merge(d.name(), 1L, Long::sum);
                }
            }
            return out;
        }

        private static List<String> rips(Dovecot d, int from) {
            List<String> all = d.logLines();
            List<String> rips = new ArrayList<>();
            for (String line : all.subList(Math.min(from, all.size()), all.size())) {
                Matcher m = RIP.matcher(line);
                if (m.find() && !m.group(1).equals("127.0.0.1")) {
                    rips.add(m.group(1));
                }
            }
            return rips;
        }
    }
}
