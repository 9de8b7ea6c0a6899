package io.mailproxy.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.log.LogCapture;
import io.mailproxy.proxyprotocol.ProxyHeader;
import io.mailproxy.proxyprotocol.ProxyProtocolDecoder;
import io.mailproxy.proxyprotocol.SslTlv;
import io.mailproxy.session.ProxyRunner;
import io.mailproxy.session.ScriptedServer;
import io.mailproxy.tls.SelfSignedCertificates.KeyEncoding;
import io.mailproxy.tls.SelfSignedCertificates.KeyType;
import io.netty.buffer.Unpooled;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two TLS hops that carry identities: a client's certificate (its CN reaches the server in the
 * PROXY header's SSL TLV, decoded here by the proxy-protocol module's decoder) and mailproxy's TLS
 * to the servers ({@code tls-to-server}: the PROXY header in plaintext first, then the handshake,
 * the server's certificate checked against {@code ca-file}; a server with a certificate of another
 * CA is a failed attempt, logged and retried on another server).
 */
class TlsHopsTest {

    @TempDir
    Path dir;

    private final BlockingQueue<ProxyHeader> headers = new LinkedBlockingQueue<>();

    /** Reads one PROXY v2 header off {@code s} and decodes it. */
    private static ProxyHeader readHeader(Socket s) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        byte[] fixed = new byte[16];
        in.readFully(fixed);
        int length = ((fixed[14] & 0xFF) << 8) | (fixed[15] & 0xFF);
        byte[] all = new byte[16 + length];
        System.arraycopy(fixed, 0, all, 0, 16);
        in.readFully(all, 16, length);
        return ProxyProtocolDecoder.decode(Unpooled.wrappedBuffer(all), ProxyProtocolDecoder.DEFAULT_MAX_HEADER_SIZE);
    }

    /** An IMAP server behind a PROXY header; with {@code cert}, it speaks TLS after the header. */
    private ScriptedServer imapServer(String name, GeneratedCertificate cert) throws Exception {
        SSLContext tls = cert == null ? null : serverContext(cert);
        return new ScriptedServer(plain -> {
            headers.add(readHeader(plain));
            Socket s = plain;
            if (tls != null) {
                SSLSocket t = (SSLSocket) tls.getSocketFactory().createSocket(plain, null, plain.getPort(), true);
                t.setUseClientMode(false);
                t.startHandshake();
                s = t;
            }
            ScriptedServer.write(s, "* OK " + name + " ready\r\n");
            String line;
            while ((line = ScriptedServer.readLine(s)) != null) {
                String tag = line.split(" ", 2)[0];
                if (line.toUpperCase().endsWith(" CAPABILITY")) {
                    ScriptedServer.write(s, "* CAPABILITY IMAP4rev1\r\n" + tag + " OK done\r\n");
                    continue;
                }
                ScriptedServer.write(s, "* BYE bye\r\n" + tag + " OK done\r\n");
                return;
            }
        });
    }

    private static SSLContext serverContext(GeneratedCertificate cert) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("k", cert.privateKey(), new char[0], cert.chain().toArray(Certificate[]::new));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, new char[0]);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        return ctx;
    }

    /** A client context trusting {@code trusted}, presenting {@code own} when not null. */
    private static SSLContext clientContext(X509Certificate trusted, GeneratedCertificate own) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", trusted);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        KeyManagerFactory kmf = null;
        if (own != null) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("k", own.privateKey(), new char[0], own.chain().toArray(Certificate[]::new));
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, new char[0]);
        }
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }

    private static GeneratedCertificate signed(Path dir, String name) {
        return SelfSignedCertificates.signedByNewCa(dir, List.of(name), KeyType.EC_P256, KeyEncoding.PKCS8);
    }

    // ---- client certificates ----

    private ProxyRunner clientAuthProxy(GeneratedCertificate serverCert, GeneratedCertificate clientCa, String mode,
                                        int serverPort) throws Exception {
        return ProxyRunner.start(dir, """
                frontends { f { bind = ["127.0.0.1:%%PORT%%"], protocol = imap, backend = pool
                  tls { mode = implicit, certificates = [ { cert = "%s", key = "%s" } ],
                        client-auth = %s, client-ca-file = "%s" } } }
                backends { pool { send-proxy = v2-ssl-cn, servers = [ { name = s1, address = "127.0.0.1:%d" } ] } }
                """.formatted(serverCert.certFile(), serverCert.keyFile(), mode, clientCa.caFile(), serverPort));
    }

    private SSLSocket tlsClient(ProxyRunner p, SSLContext ctx) throws Exception {
        Socket plain = p.connect("127.0.0.1");
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(plain, "mail.example.test", p.port, true);
        s.startHandshake();
        return s;
    }

    @Test
    void aVerifiedClientCertificatesCnReachesTheServer() throws Exception {
        GeneratedCertificate server = SelfSignedCertificates.selfSigned(dir.resolve("server"), "mail.example.test");
        GeneratedCertificate alice = signed(dir.resolve("alice"), "alice.example.test");
        try (ScriptedServer backend = imapServer("plain", null);
             ProxyRunner p = clientAuthProxy(server, alice, "required", backend.port());
             SSLSocket client = tlsClient(p, clientContext(server.certificate(), alice))) {
            assertEquals("* OK plain ready", ScriptedServer.readLine(client));
            ProxyHeader h = headers.poll(20, TimeUnit.SECONDS);
            assertNotNull(h);
            SslTlv ssl = h.ssl().orElseThrow();
            assertTrue(ssl.clientSsl() && ssl.clientCertConn(), ssl.toString());
            assertEquals(0, ssl.verify(), "verified");
            assertEquals("alice.example.test", ssl.commonName().orElseThrow());
        }
    }

    /** Optional client authentication, no certificate presented: in, but no CN and verify is not 0. */
    @Test
    void withoutACertificateOptionalLetsTheClientInUnverified() throws Exception {
        GeneratedCertificate server = SelfSignedCertificates.selfSigned(dir.resolve("server"), "mail.example.test");
        GeneratedCertificate alice = signed(dir.resolve("alice"), "alice.example.test");
        try (ScriptedServer backend = imapServer("plain", null);
             ProxyRunner p = clientAuthProxy(server, alice, "optional", backend.port());
             SSLSocket client = tlsClient(p, clientContext(server.certificate(), null))) {
            assertEquals("* OK plain ready", ScriptedServer.readLine(client));
            SslTlv ssl = headers.poll(20, TimeUnit.SECONDS).ssl().orElseThrow();
            assertTrue(ssl.clientSsl() && !ssl.clientCertConn(), ssl.toString());
            assertTrue(ssl.verify() != 0);
            assertTrue(ssl.commonName().isEmpty());
        }
    }

    /** Negative control: a certificate no configured CA signed is refused when required; no server is contacted. */
    @Test
    void anUnsignedClientCertificateIsRefusedWhenRequired() throws Exception {
        GeneratedCertificate server = SelfSignedCertificates.selfSigned(dir.resolve("server"), "mail.example.test");
        GeneratedCertificate alice = signed(dir.resolve("alice"), "alice.example.test");
        GeneratedCertificate mallory = SelfSignedCertificates.selfSigned(dir.resolve("mallory"), "mallory.example.test");
        try (ScriptedServer backend = imapServer("plain", null);
             ProxyRunner p = clientAuthProxy(server, alice, "required", backend.port());
             Socket plain = p.connect("127.0.0.1")) {
            SSLSocket client = (SSLSocket) clientContext(server.certificate(), mallory).getSocketFactory()
                    .createSocket(plain, "mail.example.test", p.port, true);
            // TLS 1.3: the client learns of the refusal when it reads
            assertThrows(IOException.class, () -> {
                client.startHandshake();
                ScriptedServer.readLine(client);
                if (ScriptedServer.readLine(client) == null) {
                    throw new IOException("closed");
                }
            });
            String line = p.lineOf(plain, Duration.ofSeconds(20));
            assertTrue(line.contains("tls-handshake"), line);
            assertEquals(0, backend.accepted());
        }
    }

    // ---- tls-to-server ----

    private ProxyRunner toServers(GeneratedCertificate trusted, int... ports) throws Exception {
        return toServers(trusted, "", ports);
    }

    private ProxyRunner toServers(GeneratedCertificate trusted, String more, int... ports) throws Exception {
        StringBuilder servers = new StringBuilder();
        for (int i = 0; i < ports.length; i++) {
            servers.append("{ name = s").append(i + 1).append(", address = \"127.0.0.1:").append(ports[i]).append("\" }, ");
        }
        return ProxyRunner.start(dir, """
                frontends { f { bind = ["127.0.0.1:%%PORT%%"], protocol = imap, backend = pool } }
                backends { pool { send-proxy = v2, balance = first, retries = 2, servers = [ %s ]
                  tls-to-server { enabled = true, verify = required, ca-file = "%s", sni = backend.example.test }
                  %s } }
                """.formatted(servers, trusted.caFile(), more));
    }

    @Test
    void tlsToServerSendsTheHeaderThenSpeaksTlsToAServerTheCaSigned() throws Exception {
        GeneratedCertificate good = signed(dir.resolve("good"), "backend.example.test");
        try (ScriptedServer s = imapServer("good", good);
             ProxyRunner p = toServers(good, s.port());
             Socket client = p.connect("127.0.0.1")) {
            assertEquals("* OK good ready", ScriptedServer.readLine(client));
            assertNotNull(headers.poll(20, TimeUnit.SECONDS), "the PROXY header came first, in plaintext");
            ScriptedServer.write(client, "a LOGOUT\r\n");
            assertEquals("* BYE bye", ScriptedServer.readLine(client));
        }
    }

    /** Negative control: a server whose certificate another CA signed is refused, logged, and the session goes elsewhere. */
    @Test
    void aServerWithACertificateOfAnotherCaIsAFailedAttemptRetriedElsewhere() throws Exception {
        GeneratedCertificate good = signed(dir.resolve("good"), "backend.example.test");
        GeneratedCertificate other = signed(dir.resolve("other"), "backend.example.test");
        try (ScriptedServer bad = imapServer("bad", other); ScriptedServer fine = imapServer("good", good);
             ProxyRunner p = toServers(good, bad.port(), fine.port())) {
            try (Socket client = p.connect("127.0.0.1")) {
                assertEquals("* OK good ready", ScriptedServer.readLine(client), "never the other CA's server");
                ScriptedServer.write(client, "a LOGOUT\r\n");
                ScriptedServer.drain(client);
                String line = p.lineOf(client, Duration.ofSeconds(30));
                assertTrue(line.contains(" pool/s2 ") && line.contains("/1 0/0 "), "one retry, on s2: " + line);
            }
            assertEquals(1, bad.accepted(), "balance = first tried the other CA's server first");
        }
        // only the bad server: the client reads the protocol's error and the line names the handshake
        try (ScriptedServer bad = imapServer("bad", other);
             ProxyRunner p = toServers(good, bad.port());
             Socket client = p.connect("127.0.0.1")) {
            String reply = ScriptedServer.readLine(client);
            assertTrue(reply.startsWith("* BYE"), reply);
            String line = p.lineOf(client, Duration.ofSeconds(30));
            assertTrue(line.contains("TLS handshake failed"), line);
        }
    }

    /** The health checks speak the backend's TLS to the servers: the other CA's server goes DOWN, the right one stays UP. */
    @Test
    void healthChecksFollowTlsToServer() throws Exception {
        GeneratedCertificate good = signed(dir.resolve("good"), "backend.example.test");
        GeneratedCertificate other = signed(dir.resolve("other"), "backend.example.test");
        try (LogCapture checks = LogCapture.attach("io.mailproxy.checks.ServerHealth");
             ScriptedServer bad = imapServer("bad", other); ScriptedServer fine = imapServer("good", good);
             ProxyRunner p = toServers(good, "health-check { type = imap, interval = 300ms, fall = 1, rise = 1 }",
                     bad.port(), fine.port())) {
            String down = checks.await(l -> l.contains("Server pool/s1 is DOWN"), Duration.ofSeconds(30));
            assertNotNull(down);
            // the right CA's server passed the same checks meanwhile: it had several, none failed
            assertTrue(ProxyRunner.await(() -> fine.accepted() >= 3, Duration.ofSeconds(30)), "checks of s2 ran");
            assertFalse(checks.lines().stream().anyMatch(l -> l.contains("pool/s2 is DOWN")), checks.lines().toString());
        }
    }
}
