package io.mailproxy.it.peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.it.FreePorts;
import io.mailproxy.session.ProxyRunner;
import io.mailproxy.session.ScriptedServer;
import io.mailproxy.stick.StickTable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * mailproxy node {@code mpa} and Debian's HAProxy 2.6 ({@code hap}) share table {@code users}
 * over the peers protocol, both in front of the same two servers {@code s1} and {@code s2} (ids 1
 * and 2 on both sides, by their order). The servers greet with their name, so a client knows where
 * it landed. Each side balances round robin; through HAProxy the clients are interleaved with
 * others, so that round robin alone puts them all on one server there, and alternates them over
 * both through mailproxy: half of them land where the other side put them only if its table
 * reached this side.
 */
class HaproxyPeerTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int CLIENTS = 10;

    @TempDir
    Path dir;

    private ScriptedServer s1;
    private ScriptedServer s2;

    @BeforeEach
    void servers() throws IOException {
        s1 = new ScriptedServer(greeter("s1"));
        s2 = new ScriptedServer(greeter("s2"));
    }

    @AfterEach
    void stopServers() throws IOException {
        s1.close();
        s2.close();
    }

    @Test
    void aClientStuckThroughMailproxyAppearsInHaproxysTableWithTheSameServer() throws Exception {
        try (Pair pair = pair(true)) {
            Map<String, String> viaMailproxy = throughMailproxy(pair.mpa, 10);
            assertTrue(ProxyRunner.await(() -> pair.hap.table().keySet().containsAll(mapped(viaMailproxy)), WAIT),
                    "HAProxy's table: " + pair.hap.table() + "\n" + pair.hap.output());
            Map<String, String> table = pair.hap.table();
            viaMailproxy.forEach((client, server) -> assertEquals(server.substring(1) + " " + server,
                    table.get("::ffff:" + client), client + " in HAProxy's show table users: " + table));
            assertEquals(viaMailproxy, throughHaproxy(pair.hap, 10));
        }
    }

    /** Negative control: without peers HAProxy's table stays empty and its round robin puts half the clients elsewhere. */
    @Test
    void withoutPeersHaproxyDisagrees() throws Exception {
        try (Pair pair = pair(false)) {
            Map<String, String> viaMailproxy = throughMailproxy(pair.mpa, 10);
            Map<String, String> viaHaproxy = throughHaproxy(pair.hap, 10);
            assertEquals(CLIENTS / 2, differ(viaMailproxy, viaHaproxy), viaMailproxy + " vs " + viaHaproxy);
        }
    }

    @Test
    void anEntryHaproxyLearnsFromItsTrafficRoutesAClientThroughMailproxy() throws Exception {
        try (Pair pair = pair(true)) {
            Map<String, String> viaHaproxy = throughHaproxy(pair.hap, 40);
            StickTable table = pair.mpa.proxy.backends().get("imap").stickTable();
            for (String client : viaHaproxy.keySet()) {
                assertTrue(ProxyRunner.await(() -> peek(table, client) != null, WAIT), client + " in mailproxy's table");
                assertEquals(viaHaproxy.get(client), peek(table, client).server(), client);
            }
            assertEquals(viaHaproxy, throughMailproxy(pair.mpa, 40));
        }
    }

    /** Negative control: without peers mailproxy learns nothing and its round robin puts half the clients elsewhere. */
    @Test
    void withoutPeersMailproxyDisagrees() throws Exception {
        try (Pair pair = pair(false)) {
            Map<String, String> viaHaproxy = throughHaproxy(pair.hap, 40);
            Map<String, String> viaMailproxy = throughMailproxy(pair.mpa, 40);
            assertEquals(CLIENTS, pair.mpa.proxy.backends().get("imap").stickTable().count(), "only its own clients");
            assertEquals(CLIENTS / 2, differ(viaHaproxy, viaMailproxy), viaHaproxy + " vs " + viaMailproxy);
        }
    }

    // ---- the pair ----

    private record Pair(HaproxyPeer hap, ProxyRunner mpa) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            try {
                mpa.close();
            } finally {
                hap.close();
            }
        }
    }

    /** HAProxy first, then mailproxy, which learns HAProxy's (empty) table before it listens. */
    private Pair pair(boolean synced) throws Exception {
        int hapPeer = FreePorts.next();
        int mpaPeer = FreePorts.next();
        HaproxyPeer hap = HaproxyPeer.start(dir, hapPeer, Map.of("mpa", mpaPeer), synced, s1.port(), s2.port(), FreePorts.next());
        try {
            String peers = synced ? """
                    peers { local-name = mpa, bind = "127.0.0.1:%d", resync-timeout = 10s
                            nodes = [{ name = hap, address = "127.0.0.1:%d" }] }
                    """.formatted(mpaPeer, hapPeer) : "";
            ProxyRunner mpa = ProxyRunner.start(dir, """
                    frontends { imap { bind = ["127.0.0.1:%%PORT%%"], protocol = imap, backend = imap } }
                    stick-tables { users { size = 1k, expire = 30m, peers = %s } }
                    backends { imap {
                      balance = roundrobin, send-proxy = none, stick-table = users
                      servers = [{ name = s1, address = "127.0.0.1:%d" }, { name = s2, address = "127.0.0.1:%d" }]
                    } }
                    %s
                    """.formatted(synced, s1.port(), s2.port(), peers).replace("%%PORT%%", "%PORT%"));
            return new Pair(hap, mpa);
        } catch (RuntimeException | Error e) {
            hap.close();
            throw e;
        }
    }

    // ---- clients ----

    /** Clients 127.0.0.{first}.. through mailproxy: round robin alone alternates them over s1 and s2. */
    private static Map<String, String> throughMailproxy(ProxyRunner mpa, int first) throws IOException {
        Map<String, String> landed = new LinkedHashMap<>();
        for (int i = first; i < first + CLIENTS; i++) {
            landed.put("127.0.0." + i, greeting(mpa.connect("127.0.0." + i)));
        }
        return landed;
    }

    /**
     * Clients 127.0.0.{first}.. through HAProxy, each after an other client (127.0.2.x): round
     * robin alone puts them all on one server. Returns where the clients (not the others) landed.
     */
    private static Map<String, String> throughHaproxy(HaproxyPeer hap, int first) throws IOException {
        Map<String, String> landed = new LinkedHashMap<>();
        for (int i = first; i < first + CLIENTS; i++) {
            greeting(connect("127.0.2." + i, hap.frontendPort));
            landed.put("127.0.0." + i, greeting(connect("127.0.0." + i, hap.frontendPort)));
        }
        return landed;
    }

    private static Socket connect(String client, int port) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(client, 0));
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.setSoTimeout(20_000);
        return s;
    }

    /** The server's name from its greeting; closes the connection. */
    private static String greeting(Socket s) throws IOException {
        try (s) {
            String line = ScriptedServer.readLine(s);
            if (line == null || !line.startsWith("* OK ")) {
                throw new AssertionError("greeting: " + line);
            }
            return line.substring(5);
        }
    }

    private static ScriptedServer.Script greeter(String name) {
        return s -> {
            ScriptedServer.write(s, "* OK " + name + "\r\n");
            ScriptedServer.drain(s);
        };
    }

    private static java.util.Set<String> mapped(Map<String, String> clients) {
        java.util.Set<String> keys = new java.util.HashSet<>();
        clients.keySet().forEach(c -> keys.add("::ffff:" + c));
        return keys;
    }

    private static int differ(Map<String, String> a, Map<String, String> b) {
        int n = 0;
        for (Map.Entry<String, String> e : a.entrySet()) {
            if (!e.getValue().equals(b.get(e.getKey()))) {
                n++;
            }
        }
        return n;
    }

    private static StickTable.Entry peek(StickTable table, String client) {
        try {
            return table.peek(InetAddress.getByName(client));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
