package io.mailproxy.session;

import static io.mailproxy.session.ScriptedServer.drain;
import static io.mailproxy.session.ScriptedServer.flood;
import static io.mailproxy.session.ScriptedServer.neverRead;
import static io.mailproxy.session.ScriptedServer.readLine;
import static io.mailproxy.session.ScriptedServer.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.backend.Server;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A peer that stops reading: a client with a 4 KiB receive buffer behind a server that sends 8 MiB,
 * and a server that never reads what a client sends. Each session is closed within
 * {@code timeout.idle} + 1 s without waiting for a flush that cannot come, logged once as a stall,
 * and its slots are given back (the server's {@code max-connections} slot too: the next client is
 * served).
 */
class SendStallTest {

    private static final long IDLE_MS = 2000;
    private static final long EIGHT_MIB = 8L << 20;
    private static final Pattern TOTAL = Pattern.compile("] \\S+ \\S+ -?\\d+/-?\\d+/(\\d+) ");

    @TempDir
    Path dir;

    private static String config(int serverPort) {
        return """
                frontends { imap { bind = ["127.0.0.1:%%PORT%%"], backend = pool, timeout.idle = %dms } }
                backends { pool { send-proxy = none, servers = [
                  { name = s1, address = "127.0.0.1:%d", max-connections = 1 } ] } }
                """.formatted(IDLE_MS, serverPort);
    }

    private static long totalMillis(String line) {
        Matcher m = TOTAL.matcher(line);
        assertTrue(m.find(), line);
        return Long.parseLong(m.group(1));
    }

    private static Socket smallReader(ProxyRunner p) throws Exception {
        Socket s = new Socket();
        s.setReceiveBufferSize(4096);
        s.connect(new InetSocketAddress("127.0.0.1", p.port), 5000);
        s.setSoTimeout(20_000);
        return s;
    }

    @Test
    void aClientThatStopsReadingIsClosedWithinTheIdleTimeoutAndItsSlotIsGivenBack() throws Exception {
        try (ScriptedServer server = new ScriptedServer(s -> {
                 write(s, "* OK flood\r\n");
                 flood(s, EIGHT_MIB);
                 write(s, "\r\n* BYE done\r\n");
                 drain(s);
             });
             ProxyRunner p = ProxyRunner.start(dir, config(server.port()));
             Socket client = smallReader(p)) {
            assertEquals("* OK flood", readLine(client));
            // ... and the client reads nothing more.
            String line = p.lineOf(client, Duration.ofMillis(IDLE_MS + 10_000));
            assertTrue(line.contains(" cD ") && line.contains(" client-stalled: "), line);
            assertTrue(totalMillis(line) < IDLE_MS + 1000, "closed within timeout.idle + 1 s: " + line);
            Server s1 = p.proxy.backends().get("pool").servers().get(0);
            assertTrue(ProxyRunner.await(() -> p.proxy.activeSessions() == 0 && s1.activeSessions() == 0,
                    Duration.ofSeconds(5)), "counted free");
            assertTrue(ProxyRunner.await(() -> server.ended() == 1, Duration.ofSeconds(5)),
                    "the server's connection was closed too");
            assertEquals(1, p.linesOf(client), "logged once");
        }
    }

    /** Negative control: a client that reads takes all 8 MiB, and the session ends normally. */
    @Test
    void aClientThatReadsGetsEverything() throws Exception {
        try (ScriptedServer server = new ScriptedServer(s -> {
                 write(s, "* OK flood\r\n");
                 flood(s, EIGHT_MIB);
                 write(s, "\r\n* BYE done\r\n");
             });
             ProxyRunner p = ProxyRunner.start(dir, config(server.port()));
             Socket client = smallReader(p)) {
            InputStream in = client.getInputStream();
            long n = in.transferTo(OutputStream.nullOutputStream());
            assertEquals("* OK flood\r\n".length() + EIGHT_MIB + "\r\n* BYE done\r\n".length(), n);
            String line = p.lineOf(client, Duration.ofSeconds(10));
            assertTrue(line.contains(" -- ") && line.endsWith(" ok"), line);
        }
    }

    @Test
    void aServerThatStopsReadingIsClosedWithinTheIdleTimeoutAndItsSlotServesTheNextClient() throws Exception {
        try (ScriptedServer server = new ScriptedServer(s -> {
                 write(s, "* OK deaf\r\n");
                 neverRead(s);
             });
             ProxyRunner p = ProxyRunner.start(dir, config(server.port()));
             Socket client = p.connect("127.0.0.1")) {
            assertEquals("* OK deaf", readLine(client));
            Thread writer = new Thread(() -> {
                try {
                    flood(client, EIGHT_MIB);
                } catch (Exception e) {
                    // closed by the proxy: expected
                }
            });
            writer.setDaemon(true);
            writer.start();
            String line = p.lineOf(client, Duration.ofMillis(IDLE_MS + 10_000));
            assertTrue(line.contains(" sD ") && line.contains(" server-stalled: "), line);
            assertTrue(totalMillis(line) < IDLE_MS + 1000, "closed within timeout.idle + 1 s: " + line);
            // The server's only slot is free again: the next client is placed there and greeted.
            try (Socket next = p.connect("127.0.0.1")) {
                assertEquals("* OK deaf", readLine(next));
            }
            assertEquals(1, p.linesOf(client), "logged once");
        }
    }

    /** Negative control: a server that reads takes all 8 MiB and the session stays up. */
    @Test
    void aServerThatReadsTakesEverything() throws Exception {
        java.util.concurrent.atomic.AtomicLong got = new java.util.concurrent.atomic.AtomicLong();
        try (ScriptedServer server = new ScriptedServer(s -> {
                 write(s, "* OK reader\r\n");
                 got.set(s.getInputStream().transferTo(OutputStream.nullOutputStream()));
             });
             ProxyRunner p = ProxyRunner.start(dir, config(server.port()));
             Socket client = p.connect("127.0.0.1")) {
            assertEquals("* OK reader", readLine(client));
            flood(client, EIGHT_MIB);
            client.shutdownOutput();
            assertTrue(ProxyRunner.await(() -> got.get() == EIGHT_MIB, Duration.ofSeconds(20)), "server got " + got);
            String line = p.lineOf(client, Duration.ofSeconds(10));
            assertTrue(line.contains(" -- ") && line.endsWith(" " + EIGHT_MIB + " ok"), line);
        }
    }
}
