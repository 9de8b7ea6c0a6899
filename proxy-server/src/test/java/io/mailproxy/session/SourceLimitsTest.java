package io.mailproxy.session;

import static io.mailproxy.session.ScriptedServer.readLine;
import static io.mailproxy.session.ScriptedServer.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.tls.GeneratedCertificate;
import io.mailproxy.tls.SelfSignedCertificates;
import io.mailproxy.tls.TrustAll;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What is checked before any TLS work: the per-source connection cap, the per-source rate, and a
 * TLS handshake bounded from the accept.
 */
class SourceLimitsTest {

    private static final String BUSY = "* BYE [UNAVAILABLE] Server busy, try again later";
    private static final Pattern TOTAL = Pattern.compile("] \\S+ \\S+ -?\\d+/-?\\d+/(\\d+) (\\d+) ");

    @TempDir
    Path dir;

    private static ScriptedServer greeter() throws IOException {
        return new ScriptedServer(s -> {
            write(s, "* OK hello\r\n");
            ScriptedServer.drain(s);
        });
    }

    private ProxyRunner plain(int serverPort, String frontendKeys) throws IOException {
        return ProxyRunner.start(dir, """
                frontends { imap { bind = ["127.0.0.1:%%PORT%%"], backend = pool %s } }
                backends { pool { send-proxy = none, servers = [ { name = s1, address = "127.0.0.1:%d" } ] } }
                """.formatted(frontendKeys, serverPort));
    }

    private ProxyRunner tls(int serverPort, String frontendKeys) throws IOException {
        GeneratedCertificate cert = SelfSignedCertificates.selfSigned(dir.resolve("tls"), "localhost", "127.0.0.1");
        return ProxyRunner.start(dir, """
                frontends { imaps { bind = ["127.0.0.1:%%PORT%%"], backend = pool %s
                  tls { mode = implicit, certificates = [ { cert = "%s", key = "%s" } ] } } }
                backends { pool { send-proxy = none, servers = [ { name = s1, address = "127.0.0.1:%d" } ] } }
                """.formatted(frontendKeys, cert.certFile(), cert.keyFile(), serverPort));
    }

    @Test
    void aSourceOverItsConnectionCapReadsBusyAndOthersAreServed() throws Exception {
        try (ScriptedServer server = greeter(); ProxyRunner p = plain(server.port(), ", max-connections-per-source = 2")) {
            List<Socket> held = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                Socket s = p.connect("127.0.0.2");
                assertEquals("* OK hello", readLine(s));
                held.add(s);
            }
            try (Socket third = p.connect("127.0.0.2")) {
                assertEquals(BUSY, readLine(third));
                assertNull(readLine(third), "closed after the reply");
                String line = p.lineOf(third, Duration.ofSeconds(10));
                assertTrue(line.contains(" PR ") && line.contains(" source-limit: 127.0.0.2 already holds 2"), line);
            }
            try (Socket other = p.connect("127.0.0.3")) {
                assertEquals("* OK hello", readLine(other), "another source is not affected");
            }
            held.remove(0).close();
            assertTrue(ProxyRunner.await(() -> p.proxy.frontends().get(0).sourceLimiter()
                    .held(io.mailproxy.limit.SourceKey.of(held.get(0).getLocalAddress(), 64)) == 1, Duration.ofSeconds(5)));
            try (Socket again = p.connect("127.0.0.2")) {
                assertEquals("* OK hello", readLine(again), "a freed place can be taken again");
            }
            for (Socket s : held) {
                s.close();
            }
            assertTrue(ProxyRunner.await(() -> p.proxy.frontends().get(0).sourceLimiter().sources() == 0,
                    Duration.ofSeconds(5)), "nothing is tracked once every connection has ended");
        }
    }

    /** Negative control: without a cap, the third connection of a source is served. */
    @Test
    void withoutACapEveryConnectionIsServed() throws Exception {
        try (ScriptedServer server = greeter(); ProxyRunner p = plain(server.port(), "")) {
            List<Socket> held = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Socket s = p.connect("127.0.0.2");
                assertEquals("* OK hello", readLine(s));
                held.add(s);
            }
            for (Socket s : held) {
                s.close();
            }
        }
    }

    @Test
    void theRateLimitRefusesBeforeTheTlsHandshake() throws Exception {
        try (ScriptedServer server = greeter(); ProxyRunner p = tls(server.port(), ", rate-limit-per-source = \"2/1m\"")) {
            for (int i = 0; i < 2; i++) {
                try (SSLSocket s = tlsClient(p)) {
                    s.startHandshake();
                    assertEquals("* OK hello", readLine(s));
                }
            }
            try (SSLSocket third = tlsClient(p)) {
                assertThrows(IOException.class, third::startHandshake, "closed before any TLS byte");
                String line = p.lineOf(third, Duration.ofSeconds(10));
                assertTrue(line.contains(" PR ") && line.contains(" rate-limited: "), line);
                Matcher m = TOTAL.matcher(line);
                assertTrue(m.find(), line);
                assertEquals("0", m.group(2), "nothing was sent to the client: " + line);
            }
            assertEquals(2, server.accepted(), "the server was never contacted for it");
        }
    }

    /**
     * A client that starts a ClientHello and stops: the handshake timeout runs from the accept, so
     * the trickled bytes do not extend it.
     */
    @Test
    void theHandshakeTimeoutCountsFromTheAccept() throws Exception {
        try (ScriptedServer server = greeter();
             ProxyRunner p = tls(server.port(), ", tls.handshake-timeout = 1500ms");
             Socket slow = p.connect("127.0.0.1")) {
            OutputStream out = slow.getOutputStream();
            // a TLS handshake record header announcing 512 bytes, then a few of them, one by one
            for (byte b : new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00}) {
                out.write(b);
                out.flush();
            }
            assertEquals(-1, slow.getInputStream().read(), "closed");
            String line = p.lineOf(slow, Duration.ofSeconds(10));
            assertTrue(line.contains(" cR ") && line.contains(" tls-timeout: "), line);
            Matcher m = TOTAL.matcher(line);
            assertTrue(m.find(), line);
            long total = Long.parseLong(m.group(1));
            assertTrue(total >= 1500 && total < 2500, "closed 1.5 s after the accept: " + line);
            assertEquals(0, server.accepted());
        }
    }

    /** Negative control: a client that finishes its handshake in time is served. */
    @Test
    void aClientThatFinishesItsHandshakeInTimeIsServed() throws Exception {
        try (ScriptedServer server = greeter();
             ProxyRunner p = tls(server.port(), ", tls.handshake-timeout = 1500ms");
             SSLSocket s = tlsClient(p)) {
            s.startHandshake();
            assertEquals("* OK hello", readLine(s));
        }
    }

    private static SSLSocket tlsClient(ProxyRunner p) throws Exception {
        SSLContext context = TrustAll.context();
        Socket plain = new Socket();
        plain.connect(new InetSocketAddress("127.0.0.1", p.port), 5000);
        plain.setSoTimeout(20_000);
        return (SSLSocket) context.getSocketFactory().createSocket(plain, "localhost", p.port, true);
    }
}
