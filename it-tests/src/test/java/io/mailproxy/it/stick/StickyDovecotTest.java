package io.mailproxy.it.stick;

import io.mailproxy.it.ProxyFixture;
import io.mailproxy.it.FreePorts;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.MailProxy;
import io.mailproxy.backend.Backend;
import io.mailproxy.backend.Server;
import io.mailproxy.dovecot.Dovecot;
import io.mailproxy.stick.StickTable;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stick tables in front of two real Dovecots: 40 client addresses (127.0.0.10 to 127.0.0.49; Linux
 * routes all of 127/8 to lo) each keep one backend, as each Dovecot's own log shows by the client
 * address ({@code rip=}) that mailproxy's PROXY header gave it. Sessions are a greeting and a
 * logout: the greeting names the Dovecot ({@code Dovecot ready (name).}), the log names the client.
 */
@Tag("dovecot")
class StickyDovecotTest {

    private static final int CLIENTS = 40;
    private static final int FIRST_CLIENT = 10;
    /** Sessions each client opens over time, in rounds (the 10). */
    private static final int SESSIONS_PER_CLIENT = 10;
    private static final Duration LOG_WAIT = Duration.ofSeconds(10);
    private static final Pattern GREETING = Pattern.compile("Dovecot ready \\((st\\d)\\)\\.");
    private static final Pattern RIP = Pattern.compile("rip=(127\\.0\\.0\\.\\d+),");

    @TempDir
    static Path dir;

    private static Dovecot st1;
    private static Dovecot st2;

    @BeforeAll
    static void startDovecots() throws Exception {
        // Started side by side: each takes about a second.
        Thread second = new Thread(() -> st2 = Dovecot.start("st2"));
        second.start();
        st1 = Dovecot.start("st1");
        second.join();
        if (st2 == null) {
            throw new IllegalStateException("Dovecot st2 did not start");
        }
    }

    @AfterAll
    static void stopDovecots() throws Exception {
        Thread second = new Thread(() -> {
            if (st2 != null) {
                st2.close();
            }
        });
        second.start();
        if (st1 != null) {
            st1.close();
        }
        second.join();
    }

    @Test
    void fortyClientsEachKeepTheirBackend() throws Exception {
        Marks marks = new Marks();
        try (MailProxy proxy = proxy(dir.resolve("sticky.conf"), "{ size = 1k, expire = 30m }", "null", false)) {
            Map<String, List<String>> seen = rounds(port(proxy, 0), "imap", SESSIONS_PER_CLIENT, new Random(1));
            seen.forEach((client, servers) -> assertEquals(1, servers.stream().distinct().count(), client + ": " + servers));
            assertTrue(seen.values().stream().anyMatch(s -> s.get(0).equals("st1"))
                    && seen.values().stream().anyMatch(s -> s.get(0).equals("st2")), "new clients are balanced: " + seen);
            Map<String, Map<String, Long>> logged = marks.ripsSince(CLIENTS * SESSIONS_PER_CLIENT);
            logged.forEach((rip, perServer) -> assertEquals(1, perServer.size(), rip + " in the logs of " + perServer));
            assertEquals(CLIENTS, logged.size());
        }
    }

    /** Negative control: round robin without a table spreads the same clients over both. */
    @Test
    void withoutATableTheSameClientsSpread() throws Exception {
        Marks marks = new Marks();
        try (MailProxy proxy = proxy(dir.resolve("plain.conf"), "null", "null", false)) {
            Map<String, List<String>> seen = rounds(port(proxy, 0), "imap", 5, new Random(1));
            long spread = seen.values().stream().filter(s -> s.stream().distinct().count() > 1).count();
            assertTrue(spread > CLIENTS / 2, spread + " of " + CLIENTS + " clients reached both servers: " + seen);
            long inBothLogs = marks.ripsSince(CLIENTS * 5).values().stream().filter(m -> m.size() > 1).count();
            assertEquals(spread, inBothLogs, "Dovecot's logs tell the same");
        }
    }

    /**
     * Within {@code expire} a client stays; after it, round robin decides afresh. Each client's
     * second session follows its first at once, so no entry can expire in between however slow the
     * machine: round robin alone would give it the other server (the pointer moved on by one), the
     * table gives the same. After the last entry's {@code expire} has passed, the clients in
     * reversed order each get the other server than at first: 40 more picks, each at the opposite
     * parity of the first.
     */
    @Test
    void entriesExpire() throws Exception {
        Duration expire = Duration.ofSeconds(2);
        try (MailProxy proxy = proxy(dir.resolve("expire.conf"), "{ size = 1k, expire = 2s }", "null", false)) {
            int port = port(proxy, 0);
            List<String> clients = clients();
            Map<String, String> first = new LinkedHashMap<>();
            long lastUse = 0;
            for (String c : clients) {
                first.put(c, session(c, port, "imap"));
                assertEquals(first.get(c), session(c, port, "imap"), c + " within expire");
                lastUse = System.nanoTime();
            }
            // Expiry is a matter of time: wait until the last entry's expire has passed.
            long wait = lastUse + expire.toNanos() + Duration.ofMillis(200).toNanos() - System.nanoTime();
            if (wait > 0) {
                Thread.sleep(wait / 1_000_000 + 1);
            }
            List<String> reversed = new ArrayList<>(clients);
            Collections.reverse(reversed);
            for (String c : reversed) {
                assertNotEquals(first.get(c), session(c, port, "imap"), c + " after expiry");
            }
        }
    }

    @Test
    void aSharedTableSendsImapAndPop3ToTheSameServerName() throws Exception {
        try (MailProxy proxy = proxy(dir.resolve("shared.conf"), "users", "users", false)) {
            for (String c : clients()) {
                String imap = session(c, port(proxy, 0), "imap");
                assertEquals(imap, session(c, port(proxy, 1), "pop3"), c);
            }
        }
    }

    /** Negative control: private tables, and the POP3 backend lists its servers the other way round. */
    @Test
    void privateTablesLeaveImapAndPop3Apart() throws Exception {
        try (MailProxy proxy = proxy(dir.resolve("private.conf"), "{}", "{}", false)) {
            int differ = 0;
            for (String c : clients()) {
                if (!session(c, port(proxy, 0), "imap").equals(session(c, port(proxy, 1), "pop3"))) {
                    differ++;
                }
            }
            assertTrue(differ > CLIENTS / 2, differ + " of " + CLIENTS + " clients were split");
        }
    }

    /**
     * A stopped backend's clients move to the other one and stay there after it is back: their
     * entries were overwritten. New clients go to the restarted one again, which shows it is usable.
     */
    @Test
    void stoppingABackendMovesItsClientsForGood() throws Exception {
        Dovecot a = Dovecot.start("st3");
        Dovecot b = Dovecot.start("st4");
        try (MailProxy proxy = proxy(dir.resolve("failover.conf"), "{}", "null", true, a, b)) {
            Backend imap = proxy.backends().get("imap");
            await("both checked UP", () -> imap.servers().stream().allMatch(Server::isUp));
            int port = port(proxy, 0);
            List<String> clients = clients();
            Map<String, String> before = new LinkedHashMap<>();
            clients.forEach(c -> before.put(c, session(c, port, "imap")));
            assertTrue(before.containsValue("st3") && before.containsValue("st4"), before.toString());

            a.stop();
            await("st3 DOWN", () -> !imap.server("st3").isUp());
            for (String c : clients) {
                assertEquals("st4", session(c, port, "imap"), c + " while st3 is down");
            }
            a.restart();
            await("st3 UP again", () -> imap.server("st3").isUp());
            StickTable table = imap.stickTable();
            for (String c : clients) {
                assertEquals("st4", table.match(InetAddress.getByName(c)), c + "'s entry");
                assertEquals("st4", session(c, port, "imap"), c + " after st3 is back");
            }
            // Negative control for "stay": st3 takes sessions again, from new clients.
            List<String> fresh = new ArrayList<>();
            for (int i = 50; i < 54; i++) {
                fresh.add(session("127.0.0." + i, port, "imap"));
            }
            assertTrue(fresh.contains("st3"), "new clients: " + fresh);
        } finally {
            a.close();
            b.close();
        }
    }

    /** 127.0.0.10 to 127.0.0.49. */
    private static List<String> clients() {
        List<String> list = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            list.add("127.0.0." + (FIRST_CLIENT + i));
        }
        return list;
    }

    /** {@code rounds} sessions per client, the clients in a new random order each round. */
    private static Map<String, List<String>> rounds(int port, String protocol, int rounds, Random random) {
        Map<String, List<String>> seen = new LinkedHashMap<>();
        List<String> order = clients();
        for (int r = 0; r < rounds; r++) {
            Collections.shuffle(order, random);
            for (String c : order) {
                seen.computeIfAbsent(c, k -> new ArrayList<>()).add(session(c, port, protocol));
            }
        }
        return seen;
    }

    /** Greeting and logout from {@code client}; returns the greeting Dovecot's name. */
    private static String session(String client, int port, String protocol) {
        try (Socket socket = new Socket()) {
            socket.bind(new InetSocketAddress(client, 0));
            socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            socket.setSoTimeout(10_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            String greeting = in.readLine();
            Matcher m = GREETING.matcher(greeting == null ? "" : greeting);
            assertTrue(m.find(), client + " " + protocol + " greeting: " + greeting);
            OutputStream out = socket.getOutputStream();
            out.write((protocol.equals("imap") ? "a1 LOGOUT\r\n" : "QUIT\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            while (in.readLine() != null) {
                // until Dovecot closes after its goodbye
            }
            return m.group(1);
        } catch (IOException e) {
            throw new UncheckedIOException(client + " -> 127.0.0.1:" + port, e);
        }
    }

    /** Where each Dovecot's log stood when a test began. */
    private static final class Marks {
        private final int st1Lines = st1.logLines().size();
        private final int st2Lines = st2.logLines().size();

        /**
         * Client address to (Dovecot name to lines naming it) since the marks, once the logs hold
         * {@code sessions} client lines in all (Dovecot writes a line when a session ends).
         */
        Map<String, Map<String, Long>> ripsSince(int sessions) throws InterruptedException {
            await(sessions + " client lines in the logs", () -> clientLines(st1, st1Lines).size()
                    + clientLines(st2, st2Lines).size() >= sessions);
            Map<String, Map<String, Long>> rips = new LinkedHashMap<>();
            for (Map.Entry<String, List<String>> e : Map.of("st1", clientLines(st1, st1Lines), "st2",
                    clientLines(st2, st2Lines)).entrySet()) {
                for (String rip : e.getValue()) {
                    rips.computeIfAbsent(rip, k -> new LinkedHashMap<>()).merge(e.getKey(), 1L, Long::sum);
                }
            }
            return rips;
        }

        /** The client addresses of the lines since {@code from} (mailproxy's own checks are 127.0.0.1). */
        private static List<String> clientLines(Dovecot dc, int from) {
            List<String> all = dc.logLines();
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

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + LOG_WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + LOG_WAIT + ": " + what);
            }
            Thread.sleep(20);
        }
    }

    private static MailProxy proxy(Path file, String imapTable, String pop3Table, boolean checks) {
        return proxy(file, imapTable, pop3Table, checks, st1, st2);
    }

    /**
     * An IMAP frontend (first bound address) and a POP3 one (second), round robin over {@code one}
     * and {@code two}: the POP3 backend lists them the other way round, so that without a shared
     * table a client's two protocols part.
     */
    private static MailProxy proxy(Path file, String imapTable, String pop3Table, boolean checks, Dovecot one, Dovecot two) {
        String health = checks
                ? "health-check { type = imap, send-proxy = local, interval = 300ms, fast-interval = 300ms, down-interval = 300ms, rise = 1, fall = 2, timeout = 5s }"
                : "";
        String config = """
                mailproxy {
                  frontends {
                    imap { bind = ["127.0.0.1:%d"], protocol = imap, backend = imap }
                    pop3 { bind = ["127.0.0.1:%d"], protocol = pop3, backend = pop3 }
                  }
                  stick-tables { users { size = 200k, expire = 30m } }
                  backends {
                    imap {
                      balance = roundrobin, send-proxy = v2, stick-table = %s
                      servers = [{ name = %s, address = "127.0.0.1:%d" }, { name = %s, address = "127.0.0.1:%d" }]
                      %s
                    }
                    pop3 {
                      balance = roundrobin, send-proxy = v2, stick-table = %s
                      servers = [{ name = %s, address = "127.0.0.1:%d" }, { name = %s, address = "127.0.0.1:%d" }]
                    }
                  }
                }
                """.formatted(freePort(), freePort(), imapTable, one.name(), one.ports().imapHaproxy(), two.name(),
                two.ports().imapHaproxy(), health, pop3Table, two.name(), two.ports().pop3Haproxy(), one.name(),
                one.ports().pop3Haproxy());
        return ProxyFixture.startFrom(file, config);
    }

    private static int port(MailProxy proxy, int listener) {
        return proxy.boundAddresses().get(listener).getPort();
    }

    private static int freePort() {
        return FreePorts.next();
    }
}
