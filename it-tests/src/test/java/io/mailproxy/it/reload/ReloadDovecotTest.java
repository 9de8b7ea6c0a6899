package io.mailproxy.it.reload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.MailProxy;
import io.mailproxy.backend.Backend;
import io.mailproxy.config.ConfigLoader;
import io.mailproxy.config.ConfigurationException;
import io.mailproxy.config.ProxySettings;
import io.mailproxy.dovecot.Dovecot;
import io.mailproxy.it.Clients;
import io.mailproxy.it.FreePorts;
import io.mailproxy.it.ProxyFixture;
import io.mailproxy.stick.StickTable;
import io.mailproxy.tls.GeneratedCertificate;
import io.mailproxy.tls.SelfSignedCertificates;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reload in front of real Dovecots, as the appliance issue asks: 200 logged-in IMAPS sessions (a
 * quarter of them in IDLE) stay open and usable through a reload that adds a server, removes
 * another, changes a weight and a stick table's size; stick entries of kept servers are kept; new
 * sessions follow the new weights and never reach the removed server; a file with a typo changes
 * nothing. Then reloads under load: clients opening sessions in a loop see no refused or reset
 * connection (the numbers are printed). Reload is mailproxy's own behaviour, not a Dovecot
 * version's: the class runs once, on the default Dovecot.
 */
class ReloadDovecotTest {

    private static final int SESSIONS = 200;
    private static final Pattern GREETING = Pattern.compile("Dovecot ready \\((rl\\d)\\)\\.");
    private static final String PASSWORD = "demo";

    @TempDir
    Path dir;

    private String config(int port, GeneratedCertificate cert, String servers, int tableSize) {
        return """
                mailproxy {
                  frontends {
                    imaps { bind = ["127.0.0.1:%d"], protocol = imap, backend = pool, max-connections-per-source = 0, %s }
                  }
                  backends {
                    pool {
                      balance = roundrobin, send-proxy = v2-ssl, stick-table = { size = %d, expire = 30m }
                      servers = [ %s ]
                    }
                  }
                }
                """.formatted(port, "tls { mode = implicit, certificates = [{ cert = \"" + cert.certFile() + "\", key = \""
                + cert.keyFile() + "\" }] }", tableSize, servers);
    }

    private static String server(Dovecot d, String keys) {
        return "{ name = " + d.name() + ", address = \"127.0.0.1:" + d.ports().imapHaproxy() + "\"" + keys + " }";
    }

    @Test
    void sessionsStayOpenAndUsableThroughAReloadAndUnderLoadNoneIsRefused() throws Exception {
        Dovecot rl1 = Dovecot.start("rl1");
        Dovecot rl2 = Dovecot.start("rl2");
        Dovecot rl3 = Dovecot.start("rl3");
        GeneratedCertificate cert = SelfSignedCertificates.selfSigned(dir.resolve("tls"), "localhost", "127.0.0.1");
        SSLContext tls = Clients.trusting(cert);
        int port = FreePorts.next();
        Path file = dir.resolve("mailproxy.conf");
        List<Session> open = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try (MailProxy proxy = ProxyFixture.startFrom(file, config(port, cert, server(rl1, "") + ", " + server(rl2, ""), 1000))) {
            // 200 clients, each from its own address, logged in; every fourth one in IDLE
            List<Future<Session>> opening = new ArrayList<>();
            for (int i = 0; i < SESSIONS; i++) {
                String client = "127.0.1." + (i + 1);
                boolean idle = i % 4 == 0;
                opening.add(pool.submit(() -> Session.open(tls, client, port, idle)));
            }
            for (Future<Session> f : opening) {
                open.add(f.get(2, TimeUnit.MINUTES));
            }
            Map<String, Long> placed = count(open);
            assertEquals(Map.of("rl1", 100L, "rl2", 100L), placed);
            Backend backend = proxy.backends().get("pool");
            StickTable before = backend.stickTable();

            // Negative control first: one typo, and nothing changes; the message names the line.
            String good = config(port, cert, server(rl1, ", weight = 3") + ", " + server(rl3, ""), 2000);
            Files.writeString(file, good.replace("balance = roundrobin", "balance = round-robin"));
            ConfigurationException typo = assertThrows(ConfigurationException.class, () -> ConfigLoader.load(file));
            assertTrue(typo.getMessage().contains("mailproxy.conf:7: mailproxy.backends.pool.balance"), typo.getMessage());
            assertSame(before, backend.stickTable());

            // rl2 removed, rl3 added, rl1's weight 3, the table twice the size
            Files.writeString(file, good);
            MailProxy.Reload done = proxy.reload(ConfigLoader.load(file));
            System.out.println("reload: " + done.summary());
            assertEquals("configuration reloaded: backend pool changed: stick-table.size; server pool/rl1 changed: weight;"
                    + " server pool/rl3 added; server pool/rl2 removed", done.summary());

            // every session goes on where it was, IDLE ones included (rl2's too: removing a server
            // does not cut its sessions)
            for (Future<String> f : pool.invokeAll(open.stream().map(s -> (java.util.concurrent.Callable<String>) s::noop).toList())) {
                assertEquals("ok", f.get(2, TimeUnit.MINUTES));
            }
            // kept entries send their clients where they were; rl2's clients go elsewhere
            StickTable resized = backend.stickTable();
            assertEquals(2000, resized.size());
            for (Session s : open) {
                String stored = resized.match(InetAddress.getByName(s.client));
                assertEquals(s.server, stored, s.client + "'s entry");
            }
            for (Session s : open.subList(0, 40)) {
                String now = greetingOnly(tls, s.client, port);
                if (s.server.equals("rl1")) {
                    assertEquals("rl1", now, s.client);
                } else {
                    assertNotEquals("rl2", now, s.client + " was on the removed rl2");
                }
            }
            // new clients: rl1 and rl3 by 3 to 1, rl2 never
            Map<String, Long> fresh = new LinkedHashMap<>();
            for (int i = 1; i <= 40; i++) {
                fresh.merge(greetingOnly(tls, "127.0.2." + i, port), 1L, Long::sum);
            }
            assertFalse(fresh.containsKey("rl2"), fresh.toString());
            assertTrue(fresh.getOrDefault("rl1", 0L) >= 2 * fresh.getOrDefault("rl3", 0L) && fresh.getOrDefault("rl3", 0L) > 0,
                    "weights 3:1 " + fresh);
            for (Session s : open) {
                s.close();
            }
            open.clear();

            // Reloads under load: 6 clients open sessions in a loop while the configuration flips
            // between two files (a server added and removed, a weight, the table size) ten times.
            ProxySettings a = ConfigLoader.load(file);
            ProxySettings b = ConfigLoader.load(Files.writeString(dir.resolve("b.conf"),
                    config(port, cert, server(rl1, "") + ", " + server(rl2, "") + ", " + server(rl3, ", weight = 2"), 500)));
            AtomicBoolean loading = new AtomicBoolean(true);
            AtomicInteger served = new AtomicInteger();
            AtomicInteger refused = new AtomicInteger();
            AtomicInteger reset = new AtomicInteger();
            List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            List<Future<?>> loaders = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                String client = "127.0.3." + (t + 1);
                loaders.add(pool.submit(() -> {
                    while (loading.get()) {
                        try {
                            greetingOnly(tls, client, port);
                            served.incrementAndGet();
                        } catch (java.net.ConnectException e) {
                            refused.incrementAndGet();
                            failures.add(e.toString());
                        } catch (IOException | RuntimeException e) {
                            reset.incrementAndGet();
                            failures.add(e.toString());
                        }
                    }
                    return null;
                }));
            }
            awaitCount(served, 30);
            long reloadNanos = 0;
            for (int r = 0; r < 10; r++) {
                int mark = served.get();
                long t0 = System.nanoTime();
                proxy.reload(r % 2 == 0 ? b : a);
                reloadNanos += System.nanoTime() - t0;
                awaitCount(served, mark + 10);
            }
            loading.set(false);
            for (Future<?> f : loaders) {
                f.get(2, TimeUnit.MINUTES);
            }
            System.out.printf("reload under load: 10 reloads (%.1f ms each on average) while 6 clients opened %d IMAPS"
                    + " sessions: %d refused, %d reset or failed%n", reloadNanos / 10 / 1e6, served.get(), refused.get(),
                    reset.get());
            assertEquals(List.of(), failures);
        } finally {
            for (Session s : open) {
                s.close();
            }
            pool.shutdownNow();
            rl1.close();
            rl2.close();
            rl3.close();
        }
    }

    private static void awaitCount(AtomicInteger n, int atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (n.get() < atLeast) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("only " + n.get() + " sessions, waiting for " + atLeast);
            }
            Thread.sleep(10);
        }
    }

    private static Map<String, Long> count(List<Session> sessions) {
        Map<String, Long> out = new java.util.TreeMap<>();
        sessions.forEach(s -> out.merge(s.server, 1L, Long::sum));
        return out;
    }

    /** A session from {@code client}: greeting and LOGOUT; returns the Dovecot that greeted. */
    private static String greetingOnly(SSLContext tls, String client, int port) throws IOException {
        try (Session s = Session.connect(tls, client, port)) {
            s.send("z LOGOUT");
            s.until("z ");
            return s.server;
        }
    }

    /** An IMAPS session from one client address. */
    private static final class Session implements AutoCloseable {
        final String client;
        final SSLSocket socket;
        final BufferedReader in;
        final OutputStream out;
        final String server;
        private boolean idle;

        private Session(String client, SSLSocket socket) throws IOException {
            this.client = client;
            this.socket = socket;
            this.in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            this.out = socket.getOutputStream();
            String greeting = in.readLine();
            Matcher m = GREETING.matcher(greeting == null ? "" : greeting);
            if (!m.find()) {
                throw new IOException(client + ": greeting " + greeting);
            }
            this.server = m.group(1);
        }

        static Session connect(SSLContext tls, String client, int port) throws IOException {
            Socket raw = new Socket();
            try {
                raw.bind(new InetSocketAddress(client, 0));
                raw.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
                raw.setSoTimeout(60_000);
                SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(raw, "localhost", port, true);
                s.startHandshake();
                return new Session(client, s);
            } catch (IOException | RuntimeException e) {
                raw.close();
                throw e;
            }
        }

        /** Connected and logged in; in IDLE when {@code idle}. */
        static Session open(SSLContext tls, String client, int port, boolean idle) throws IOException {
            Session session = connect(tls, client, port);
            session.send("a LOGIN user" + client.replace('.', '-') + " " + PASSWORD);
            String reply = session.until("a ");
            if (!reply.startsWith("a OK")) {
                throw new IOException(client + ": " + reply);
            }
            if (idle) {
                session.send("b IDLE");
                String go = session.in.readLine();
                if (go == null || !go.startsWith("+ ")) {
                    throw new IOException(client + ": IDLE answered " + go);
                }
                session.idle = true;
            }
            return session;
        }

        /** Ends IDLE where it is on, then NOOP: "ok" when both are answered. */
        String noop() throws IOException {
            if (idle) {
                idle = false;
                send("DONE");
                String r = until("b ");
                if (!r.startsWith("b OK")) {
                    return client + ": DONE answered " + r;
                }
            }
            send("c NOOP");
            String r = until("c ");
            return r.startsWith("c OK") ? "ok" : client + ": NOOP answered " + r;
        }

        void send(String line) throws IOException {
            out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }

        /** Reads up to the line starting with {@code tag}; fails on the end of the stream. */
        String until(String tag) throws IOException {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.startsWith(tag)) {
                    return line;
                }
            }
            throw new SocketException(client + ": closed before the reply tagged " + tag.trim());
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
