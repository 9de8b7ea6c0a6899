package io.mailproxy.it.proxyprotocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.MailProxy;
import io.mailproxy.config.ConfigLoader;
import io.mailproxy.dovecot.Dovecot;
import io.mailproxy.log.SessionLog;
import io.mailproxy.tls.GeneratedCertificate;
import io.mailproxy.tls.SelfSignedCertificates;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The PROXY protocol end to end with real processes: HAProxy 2.6 in front of mailproxy (accept-proxy)
 * and Dovecot (2.3 or 2.4, the run's target) behind it. The test clients bind 127.0.0.2 (or 127.0.0.3), so that Dovecot's
 * {@code rip=} proves the original client's address travelled through every hop; HAProxy and
 * mailproxy connect from 127.0.0.1.
 */
@Tag("dovecot")
class ProxyProtocolChainTest {

    private static final Duration LOG_WAIT = Duration.ofSeconds(30);

    @TempDir
    static Path dir;

    private static Dovecot dovecot;
    private static MailProxy proxy;
    private static Process haproxy;
    private static Net.LogLines log;
    private static int behindHaproxy;
    private static int open;
    private static int haproxyPlain;
    private static int haproxyTls;
    private static final java.util.Map<String, Integer> TLS_FRONTENDS = new java.util.LinkedHashMap<>();

    @BeforeAll
    static void start() throws Exception {
        dovecot = Dovecot.start("ppchain");
        GeneratedCertificate cert = SelfSignedCertificates.selfSigned(Files.createDirectories(dir.resolve("cert")),
                "mail.example.com");
        behindHaproxy = Net.freePort();
        open = Net.freePort();
        StringBuilder frontends = new StringBuilder();
        StringBuilder backends = new StringBuilder();
        String dc = "servers = [ { name = dc1, address = \"127.0.0.1:" + dovecot.ports().imapHaproxy() + "\" } ]";
        String[][] variants = {{"v1", "v1", "[]"}, {"v2", "v2", "[]"}, {"v2-ssl", "v2-ssl", "[]"},
                {"v2-ssl-cn", "v2-ssl-cn", "[]"},
                {"v2-ssl-opts", "v2-ssl", "[crc32c, unique-id, authority, ssl-cipher, cert-sig, cert-key]"}};
        for (String[] v : variants) {
            int port = Net.freePort();
            TLS_FRONTENDS.put(v[0], port);
            frontends.append("    tls-").append(v[0]).append(" { bind = [\"127.0.0.1:").append(port)
                    .append("\"], backend = b-").append(v[0]).append(", tls { mode = implicit, certificates = [ { cert = \"")
                    .append(cert.certFile()).append("\", key = \"").append(cert.keyFile()).append("\" } ] } }\n");
            backends.append("    b-").append(v[0]).append(" { send-proxy = ").append(v[1])
                    .append(", proxy-v2-options = ").append(v[2]).append(", ").append(dc).append(" }\n");
        }
        Path conf = Files.writeString(dir.resolve("mailproxy.conf"), """
                mailproxy {
                  frontends {
                    behind-haproxy {
                      bind = ["127.0.0.1:%d"], backend = b-v2-ssl
                      accept-proxy { enabled = true, trusted-networks = ["127.0.0.1/32"], timeout = 2s }
                    }
                    open {
                      bind = ["127.0.0.1:%d"], backend = b-v2-ssl
                      accept-proxy { enabled = true, trusted-networks = ["127.0.0.0/8", "::1/128"], timeout = 2s }
                    }
                %s  }
                  backends {
                %s  }
                }
                """.formatted(behindHaproxy, open, frontends, backends));
        log = new Net.LogLines();
        SessionLog.LOGGER.addHandler(log);
        proxy = MailProxy.start(ConfigLoader.load(conf));

        haproxyPlain = Net.freePort();
        haproxyTls = Net.freePort();
        Path pem = dir.resolve("haproxy.pem");
        Files.writeString(pem, Files.readString(cert.certFile()) + Files.readString(cert.keyFile()));
        Path cfg = Files.writeString(dir.resolve("haproxy.cfg"), """
                global
                  maxconn 100
                defaults
                  mode tcp
                  timeout connect 3s
                  timeout client 30s
                  timeout server 30s
                frontend plain
                  bind 127.0.0.1:%d
                  default_backend to-mailproxy-v1
                frontend tls
                  bind 127.0.0.1:%d ssl crt %s
                  default_backend to-mailproxy-v2
                backend to-mailproxy-v1
                  server mp 127.0.0.1:%d send-proxy
                backend to-mailproxy-v2
                  server mp 127.0.0.1:%d send-proxy-v2-ssl-cn proxy-v2-options crc32c,unique-id,authority,ssl-cipher,cert-sig,cert-key
                """.formatted(haproxyPlain, haproxyTls, pem, behindHaproxy, behindHaproxy));
        haproxy = new ProcessBuilder("/usr/sbin/haproxy", "-f", cfg.toString(), "-db")
                .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.out").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        awaitListening(haproxyPlain);
        awaitListening(haproxyTls);
    }

    private static void awaitListening(int port) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            if (!haproxy.isAlive()) {
                throw new AssertionError("haproxy exited: " + Files.readString(dir.resolve("haproxy.out")));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("haproxy does not listen on " + port, e);
                }
                Thread.sleep(50);
            }
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (haproxy != null) {
            haproxy.destroy();
            haproxy.waitFor();
        }
        if (proxy != null) {
            proxy.close();
        }
        SessionLog.LOGGER.removeHandler(log);
        if (dovecot != null) {
            dovecot.close();
        }
    }

    /** HAProxy send-proxy (v1): mailproxy decodes it and Dovecot sees the client, not HAProxy. */
    @Test
    void haproxyV1HeaderCarriesTheClientToDovecot() throws Exception {
        try (Net.Client c = Net.Client.plain("127.0.0.2", haproxyPlain)) {
            assertTrue(c.readLine().startsWith("* OK"));
            // No TLS anywhere on this path: Dovecot refuses plaintext LOGIN (the negative control
            // of the TLS case below).
            assertTrue(c.imap("a", "LOGIN hapvone demo").startsWith("a NO"));
        }
        String line = dovecot.awaitLog(Pattern.compile("user=<hapvone>"), LOG_WAIT);
        assertTrue(line.contains("rip=127.0.0.2,"), line);
        log.await(5000, "127.0.0.2:", " behind-haproxy b-v2-ssl/dc1 ");
    }

    /**
     * HAProxy terminates TLS and sends send-proxy-v2-ssl-cn with every proxy-v2-option: mailproxy
     * (plaintext frontend, forward-ssl on by default) passes the SSL TLV on, so Dovecot counts the
     * session as secured and allows LOGIN, and logs the original client.
     */
    @Test
    void haproxyV2SslHeaderIsDecodedAndItsSslTlvForwarded() throws Exception {
        try (Net.Client c = Net.Client.tls("127.0.0.2", haproxyTls)) {
            assertTrue(c.readLine().startsWith("* OK"));
            assertTrue(c.imap("a", "LOGIN hapvtwo demo").startsWith("a OK"));
            c.imap("b", "LOGOUT");
        }
        String line = dovecot.awaitLog(dovecot.version().login("imap", "hapvtwo"), LOG_WAIT);
        assertTrue(line.contains("rip=127.0.0.2,"), line);
        assertTrue(dovecot.version().securedLogin("imap", "hapvtwo").matcher(line).find(), line);
    }

    /** Every header mailproxy sends is accepted by Dovecot; the SSL TLV variants allow LOGIN. */
    @ParameterizedTest
    @CsvSource({"v1, false", "v2, false", "v2-ssl, true", "v2-ssl-cn, true", "v2-ssl-opts, true"})
    void dovecotAcceptsEveryHeaderVariant(String variant, boolean secured) throws Exception {
        String user = "u" + variant.replace("-", "");
        try (Net.Client c = Net.Client.tls("127.0.0.2", TLS_FRONTENDS.get(variant))) {
            assertTrue(c.readLine().startsWith("* OK"));
            String reply = c.imap("a", "LOGIN " + user + " demo");
            assertEquals(secured, reply.startsWith("a OK"), reply);
            c.imap("b", "LOGOUT");
        }
        String line = dovecot.awaitLog(Pattern.compile("user=<" + user + ">"), LOG_WAIT);
        assertTrue(line.contains("rip=127.0.0.2,"), line);
        assertEquals(secured, dovecot.version().securedLogin("imap", user).matcher(line).find(), line);
    }

    /** A peer outside trusted-networks is closed at once; the same peer is served where it is trusted. */
    @Test
    void untrustedPeerIsRefusedAndTrustedOneAccepted() throws Exception {
        try (Net.Client c = Net.Client.plain("127.0.0.2", behindHaproxy)) {
            assertEquals(-1, c.readByte());
        }
        String refused = log.await(5000, "127.0.0.2:", " behind-haproxy ", " PR ", "untrusted-peer");
        assertTrue(refused.contains("<NOSRV>"), refused);
        // Negative control: the same peer, trusted on the other frontend, with a header naming a
        // client of its own.
        try (Net.Client c = Net.Client.plain("127.0.0.2", open)) {
            c.write("PROXY TCP4 198.51.100.7 127.0.0.1 5000 143\r\n".getBytes(StandardCharsets.US_ASCII));
            assertTrue(c.readLine().startsWith("* OK"));
            c.imap("a", "LOGIN trusted demo");
        }
        String line = dovecot.awaitLog(Pattern.compile("user=<trusted>"), LOG_WAIT);
        assertTrue(line.contains("rip=198.51.100.7,"), line);
    }

    /** A header trickled one byte a second is cut at the 2 s timeout. */
    @Test
    void trickledHeaderIsClosedAtTheTimeout() throws Exception {
        try (Net.Client c = Net.Client.plain("127.0.0.2", open)) {
            byte[] header = "PROXY TCP4 198.51.100.8 127.0.0.1 5000 143\r\n".getBytes(StandardCharsets.US_ASCII);
            Thread trickle = new Thread(() -> {
                try {
                    for (byte b : header) {
                        c.write(new byte[] {b});
                        Thread.sleep(1000);
                    }
                } catch (IOException | InterruptedException e) {
                    // The proxy closed the connection: the expected end.
                }
            }, "trickle");
            trickle.setDaemon(true);
            trickle.start();
            assertEquals(-1, c.readByte());
            trickle.interrupt();
        }
        String line = log.await(5000, " open ", "proxy-timeout", "PRX_TIMEOUT");
        assertTrue(line.contains(" cR "), line);
        assertEquals(0, dovecot.countLog(Pattern.compile("rip=198\\.51\\.100\\.8")));
    }

    /** IMAP without a header is refused as PRX_NOT_HDR and never reaches Dovecot. */
    @Test
    void commandsWithoutHeaderNeverReachDovecot() throws Exception {
        try (Net.Client c = Net.Client.plain("127.0.0.3", open)) {
            c.send("a LOGIN noheader demo");
            assertEquals(-1, c.readByte());
        }
        String line = log.await(5000, "127.0.0.3:", " open ", "proxy-invalid", "PRX_NOT_HDR");
        assertTrue(line.contains("<NOSRV>"), line);
        assertEquals(0, dovecot.countLog(Pattern.compile("rip=127\\.0\\.0\\.3")));
        // Negative control: with a header the same client does reach Dovecot.
        try (Net.Client c = Net.Client.plain("127.0.0.3", open)) {
            c.write("PROXY TCP4 127.0.0.3 127.0.0.1 5000 143\r\n".getBytes(StandardCharsets.US_ASCII));
            assertTrue(c.readLine().startsWith("* OK"));
            c.imap("a", "LOGIN withheader demo");
        }
        assertTrue(dovecot.awaitLog(Pattern.compile("user=<withheader>"), LOG_WAIT).contains("rip=127.0.0.3,"));
    }
}
