package io.mailproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.MailProxy;
import io.mailproxy.backend.Backend;
import io.mailproxy.backend.Server;
import io.mailproxy.dovecot.Dovecot;
import io.mailproxy.frontend.Frontend;
import io.mailproxy.log.LogCapture;
import io.mailproxy.tls.GeneratedCertificate;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 5,000 sessions through mailproxy to two real Dovecots and one server that accepts and never
 * greets, over IMAPS and plain IMAP, with faults injected at random: clients that reset, clients
 * that stop reading, clients that leave before the greeting or in the TLS handshake, and one
 * Dovecot stopped and started again in the middle. Then, idle: every session was logged exactly
 * once, every counter, gate, queue and slot is back to zero, and the heap is back near its
 * baseline (Netty's paranoid leak detection reports nothing, or the test fails).
 */
class SoakTest {

    private static final int SESSIONS = 5_000;
    private static final int CLIENTS = 24;
    private static final String USER_PASSWORD = "demo";

    @TempDir
    Path dir;

    /** What a client does with its session. */
    private enum Behaviour { LOGIN_LOGOUT, LOGOUT, HALF_CLOSE_AFTER_LOGOUT, RESET, STOP_READING, LEAVE_EARLY }

    @Test
    void everySessionEndsLogsOnceAndGivesBackWhatItHeld() throws Exception {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        Dovecot dc1 = Dovecot.start("soak1");
        Dovecot dc2 = Dovecot.start("soak2");
        GeneratedCertificate cert = ProxyFixture.certificate(dir);
        int imaps = FreePorts.next();
        int imap = FreePorts.next();
        try (Mute mute = new Mute(); LogCapture log = LogCapture.sessions()) {
            MailProxy proxy = ProxyFixture.startFrom(dir.resolve("soak.conf"), """
                    mailproxy {
                      frontends {
                        imaps { bind = ["127.0.0.1:%d"], protocol = imap, backend = pool, timeout.idle = 2s,
                                max-connections-per-source = 1000, %s }
                        imap { bind = ["127.0.0.1:%d"], protocol = imap, backend = pool, timeout.idle = 2s }
                      }
                      backends {
                        pool {
                          balance = roundrobin, send-proxy = v2-ssl, retries = 3
                          timeout.server-greeting = 3s
                          servers = [
                            { name = dc1, address = "127.0.0.1:%d", weight = 16, max-connections = 20 }
                            { name = dc2, address = "127.0.0.1:%d", weight = 16, max-connections = 20 }
                            { name = mute, address = "127.0.0.1:%d", weight = 1 }
                          ]
                        }
                      }
                    }
                    """.formatted(imaps, ProxyFixture.implicitTls(cert), imap, dc1.ports().imapHaproxy(),
                    dc2.ports().imapHaproxy(), mute.port()));
            long baseline = heapAfterGc(memory);
            SSLContext tls = Clients.trusting(cert);
            // A client port may be used again by a later connection: count connections per address.
            Map<String, AtomicInteger> clients = new ConcurrentHashMap<>();
            AtomicInteger connections = new AtomicInteger();
            Map<Behaviour, AtomicInteger> byBehaviour = new ConcurrentHashMap<>();
            AtomicInteger done = new AtomicInteger();
            CountDownLatch halfway = new CountDownLatch(1);
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
            List<Future<?>> runs = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int c = 0; c < CLIENTS; c++) {
                SplittableRandom random = new SplittableRandom(c);
                runs.add(pool.submit(() -> {
                    while (true) {
                        int n = done.getAndIncrement();
                        if (n >= SESSIONS) {
                            return null;
                        }
                        if (n == SESSIONS / 2) {
                            halfway.countDown();
                        }
                        Behaviour b = pick(random);
                        byBehaviour.computeIfAbsent(b, k -> new AtomicInteger()).incrementAndGet();
                        boolean useTls = random.nextBoolean();
                        session(useTls ? tls : null, useTls ? imaps : imap, b, clients, connections);
                    }
                }));
            }
            // A Dovecot stopped in the middle, then started again on the same ports.
            assertTrue(halfway.await(5, TimeUnit.MINUTES));
            dc2.restart();
            for (Future<?> run : runs) {
                run.get(10, TimeUnit.MINUTES);
            }
            pool.shutdown();
            long seconds = (System.nanoTime() - t0) / 1_000_000_000;

            assertTrue(await(() -> proxy.activeSessions() == 0, Duration.ofSeconds(30)),
                    proxy.activeSessions() + " session(s) still open: " + proxy.sessions().snapshot());
            assertTrue(await(() -> log.lines().size() >= connections.get(), Duration.ofSeconds(30)));
            Map<String, Integer> lines = new HashMap<>();
            for (String line : log.lines()) {
                lines.merge(line.substring(0, line.indexOf(" [")), 1, Integer::sum);
            }
            for (Map.Entry<String, AtomicInteger> client : clients.entrySet()) {
                assertEquals(client.getValue().get(), lines.getOrDefault(client.getKey(), 0),
                        "one line per connection of " + client.getKey());
            }
            assertEquals(connections.get(), log.lines().size(), "no line for a connection the clients did not make");
            assertEquals(0, proxy.sessions().size());
            assertEquals(0, proxy.gate().global().count());
            for (Frontend f : proxy.frontends()) {
                assertEquals(0, f.activeSessions(), f.settings().name());
                if (f.sourceLimiter() != null) {
                    assertEquals(0, f.sourceLimiter().sources(), "per-source counts of " + f.settings().name());
                }
            }
            for (Backend b : proxy.backends().values()) {
                assertEquals(0, b.active().get());
                assertEquals(0, b.queue().size());
                for (Server s : b.servers()) {
                    assertEquals(0, s.activeSessions(), s.qualifiedName());
                    assertEquals(0, s.queued(), s.qualifiedName());
                    assertEquals(0, s.connectedSessions(), s.qualifiedName());
                }
            }
            proxy.close();
            long after = heapAfterGc(memory);
            Map<String, Long> codes = new HashMap<>();
            java.util.regex.Pattern reason = java.util.regex.Pattern.compile(" \\d+/\\d+ \\d+ ([a-z-]+)(:|$)");
            for (String line : log.lines()) {
                java.util.regex.Matcher m = reason.matcher(line);
                codes.merge(m.find() ? m.group(1) : "?", 1L, Long::sum);
            }
            System.out.printf("soak: %d sessions in %d s by %d clients %s; endings %s; heap after GC %d MB before,"
                            + " %d MB after%n", connections.get(), seconds, CLIENTS, byBehaviour, codes,
                    baseline >> 20, after >> 20);
            assertTrue(after < baseline + (32L << 20), "heap back near its baseline: " + (baseline >> 20) + " MB, then "
                    + (after >> 20) + " MB");
            assertTrue(codes.getOrDefault("ok", 0L) > SESSIONS / 2, codes.toString());
        } finally {
            dc1.close();
            dc2.close();
        }
    }

    private static Behaviour pick(SplittableRandom random) {
        int r = random.nextInt(100);
        if (r < 25) {
            return Behaviour.LOGIN_LOGOUT;
        }
        if (r < 60) {
            return Behaviour.LOGOUT;
        }
        if (r < 70) {
            return Behaviour.HALF_CLOSE_AFTER_LOGOUT;
        }
        if (r < 80) {
            return Behaviour.RESET;
        }
        if (r < 85) {
            return Behaviour.STOP_READING;
        }
        return Behaviour.LEAVE_EARLY;
    }

    /** One client session; every connection it opens is recorded by its address. */
    private static void session(SSLContext tls, int port, Behaviour b, Map<String, AtomicInteger> clients,
                                AtomicInteger connections) {
        Socket plain = new Socket();
        try {
            plain.setSoTimeout(15_000);
            plain.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            clients.computeIfAbsent("127.0.0.1:" + plain.getLocalPort(), k -> new AtomicInteger()).incrementAndGet();
            connections.incrementAndGet();
            if (b == Behaviour.LEAVE_EARLY) {
                // before the greeting, or in the TLS handshake
                plain.close();
                return;
            }
            Socket s = tls == null ? plain
                    : (SSLSocket) tls.getSocketFactory().createSocket(plain, "localhost", port, true);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            String greeting = line(in);
            if (b == Behaviour.RESET) {
                plain.setSoLinger(true, 0);
                plain.close();
                return;
            }
            if (greeting == null || !greeting.startsWith("* OK")) {
                s.close();
                return;
            }
            if (b != Behaviour.LOGOUT) {
                send(out, "a LOGIN soak " + USER_PASSWORD);
                String reply;
                while ((reply = line(in)) != null && !reply.startsWith("a ")) {
                    // untagged capability lines
                }
            }
            if (b == Behaviour.STOP_READING) {
                send(out, "b SELECT INBOX");
                send(out, "c LIST \"\" *");
                // reads nothing more: the idle timeout (2 s) ends it, or the client stall
                LockSupport.parkNanos(Duration.ofMillis(2500).toNanos());
                s.close();
                return;
            }
            send(out, "z LOGOUT");
            if (b == Behaviour.HALF_CLOSE_AFTER_LOGOUT && tls == null) {
                plain.shutdownOutput();
            }
            while (line(in) != null) {
                // to Dovecot's close
            }
            s.close();
        } catch (IOException e) {
            // a fault the test injected, or Dovecot stopped under it: the proxy's log tells
            closeQuietly(plain);
        }
    }

    private static void send(OutputStream out, String command) throws IOException {
        out.write((command + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                return b.toString().strip();
            }
            b.append((char) c);
        }
        return b.length() == 0 ? null : b.toString();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closing
        }
    }

    private static long heapAfterGc(MemoryMXBean memory) {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return memory.getHeapMemoryUsage().getUsed();
    }

    private static boolean await(BooleanSupplier condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            LockSupport.parkNanos(10_000_000);
        }
        return true;
    }

    /** A server that accepts connections and never says a word. */
    private static final class Mute implements AutoCloseable {
        private final ServerSocket listener = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        private final List<Socket> held = new java.util.concurrent.CopyOnWriteArrayList<>();

        Mute() throws IOException {
            Thread t = new Thread(() -> {
                while (!listener.isClosed()) {
                    try {
                        held.add(listener.accept());
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return listener.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            listener.close();
            for (Socket s : held) {
                s.close();
            }
        }
    }
}
