package io.mailproxy.starttls;

import static io.mailproxy.session.ScriptedServer.readLine;
import static io.mailproxy.session.ScriptedServer.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.session.ProxyRunner;
import io.mailproxy.session.ScriptedServer;
import io.mailproxy.tls.GeneratedCertificate;
import io.mailproxy.tls.SelfSignedCertificates;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * STARTTLS frontends end to end, in this JVM: mailproxy's own plaintext dialogue, the upgrade, the
 * server's greeting taken out, the commands injected behind STARTTLS discarded (CVE-2011-0411),
 * {@code starttls-optional}'s plaintext path, and the dialogue's bounds. The server is a scripted
 * one that records every line it receives, so "never reached the server" is observed, not assumed.
 */
class StartTlsSessionTest {

    @TempDir
    Path dir;

    private GeneratedCertificate cert;
    /** Every line the scripted server received, in order. */
    private final BlockingQueue<String> received = new LinkedBlockingQueue<>();

    @BeforeEach
    void certificate() {
        cert = SelfSignedCertificates.selfSigned(dir, "mail.example.test");
    }

    private ProxyRunner proxy(String protocol, String mode, int serverPort, String tlsExtra) throws Exception {
        return ProxyRunner.start(dir, """
                frontends { f { bind = ["127.0.0.1:%%PORT%%"], protocol = %s, backend = pool
                  tls { mode = %s, certificates = [ { cert = "%s", key = "%s" } ], starttls.host-name = mx.test %s } } }
                backends { pool { send-proxy = none, servers = [ { name = s1, address = "127.0.0.1:%d" } ] } }
                """.formatted(protocol, mode, cert.certFile(), cert.keyFile(), tlsExtra, serverPort));
    }

    /** A server that greets with {@code greeting}, records each line, and answers it with {@code reply} (%s = the line's first word). */
    private ScriptedServer recording(String greeting, String reply) throws Exception {
        return new ScriptedServer(s -> {
            write(s, greeting);
            String line;
            while ((line = readLine(s)) != null) {
                received.add(line);
                String first = line.split(" ", 2)[0];
                if (line.toUpperCase().endsWith(" LOGOUT")) {
                    write(s, "* BYE Logging out\r\n" + first + " OK Logout completed.\r\n");
                    return;
                }
                if (line.equalsIgnoreCase("QUIT")) {
                    write(s, "+OK Logging out.\r\n");
                    return;
                }
                write(s, reply.replace("%s", first));
            }
        });
    }

    /** An LMTP server greeting with {@code greeting} (each a write of its own), recording each line. */
    private ScriptedServer lmtpServer(List<String> greeting, String lhloReply, String otherReply) throws Exception {
        return new ScriptedServer(s -> {
            for (String g : greeting) {
                write(s, g);
            }
            String line;
            while ((line = readLine(s)) != null) {
                received.add(line);
                if (line.equals("QUIT")) {
                    write(s, "221 bye\r\n");
                    return;
                }
                write(s, line.startsWith("LHLO") ? lhloReply : otherReply);
            }
        });
    }

    private static SSLSocket upgrade(Socket plain) throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, InsecureTrustManagerFactory.INSTANCE.getTrustManagers(), null);
        SSLSocket tls = (SSLSocket) ctx.getSocketFactory().createSocket(plain, "mail.example.test", plain.getPort(), true);
        tls.setUseClientMode(true);
        tls.startHandshake();
        return tls;
    }

    private String nextReceived() throws InterruptedException {
        return received.poll(20, TimeUnit.SECONDS);
    }

    // ---- IMAP ----

    @Test
    void imapLoginBeforeStartTlsIsRefusedAndTheServersGreetingIsNotRelayedAfterIt() throws Exception {
        try (ScriptedServer server = recording("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] scripted ready\r\n",
                "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n%s OK done\r\n");
             ProxyRunner p = proxy("imap", "starttls", server.port(), "");
             Socket client = p.connect("127.0.0.1")) {
            String greeting = readLine(client);
            assertTrue(greeting.startsWith("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED]"), greeting);
            write(client, "a CAPABILITY\r\n");
            assertEquals("* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED", readLine(client));
            assertEquals("a OK Capability completed.", readLine(client));
            write(client, "b LOGIN user secret\r\n");
            assertTrue(readLine(client).startsWith("b NO [PRIVACYREQUIRED]"));
            assertEquals(0, server.accepted(), "nothing reaches a server before STARTTLS");
            write(client, "c STARTTLS\r\n");
            assertEquals("c OK Begin TLS negotiation now.", readLine(client));
            try (SSLSocket tls = upgrade(client)) {
                write(tls, "d CAPABILITY\r\n");
                // the first line after TLS is the server's answer: its greeting was taken out
                assertEquals("* CAPABILITY IMAP4rev1 AUTH=PLAIN", readLine(tls));
                assertEquals("d OK done", readLine(tls));
                assertEquals("d CAPABILITY", nextReceived(), "the server's first line is the client's first after TLS");
                write(tls, "e LOGOUT\r\n");
                readLine(tls);
                String line = p.lineOf(client, Duration.ofSeconds(20));
                assertTrue(line.contains("refused before STARTTLS: LOGIN"), line);
                assertTrue(line.contains(" ok") && !line.contains("discarded"), line);
            }
        }
    }

    /** Negative control for the greeting: on a plaintext frontend the same server's greeting is what the client reads first. */
    @Test
    void withoutStartTlsTheServersGreetingIsRelayed() throws Exception {
        try (ScriptedServer server = recording("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] scripted ready\r\n", "%s OK\r\n");
             ProxyRunner p = proxy("imap", "none", server.port(), "");
             Socket client = p.connect("127.0.0.1")) {
            assertTrue(readLine(client).endsWith("scripted ready"));
        }
    }

    @Test
    void imapCommandsInjectedBehindStartTlsAreNeverExecuted() throws Exception {
        String injected = "b LOGIN x y\r\n";
        try (ScriptedServer server = recording("* OK scripted ready\r\n", "%s OK done\r\n");
             ProxyRunner p = proxy("imap", "starttls", server.port(), "");
             Socket client = p.connect("127.0.0.1")) {
            readLine(client);
            write(client, "a STARTTLS\r\n" + injected);
            assertEquals("a OK Begin TLS negotiation now.", readLine(client));
            try (SSLSocket tls = upgrade(client)) {
                write(tls, "c NOOP\r\n");
                assertEquals("c OK done", readLine(tls));
                assertEquals("c NOOP", nextReceived());
                // negative control: the same command sent through TLS does reach the server
                write(tls, injected);
                assertEquals("b OK done", readLine(tls));
                assertEquals("b LOGIN x y", nextReceived());
                write(tls, "z LOGOUT\r\n");
                readLine(tls);
                String line = p.lineOf(client, Duration.ofSeconds(20));
                assertTrue(line.contains("discarded " + injected.length() + " bytes sent after STARTTLS"), line);
            }
        }
    }

    // ---- POP3 ----

    @Test
    void pop3UserBeforeStlsIsRefusedAndInjectionIsDiscarded() throws Exception {
        try (ScriptedServer server = recording("+OK scripted ready\r\n", "+OK done %s\r\n");
             ProxyRunner p = proxy("pop3", "starttls", server.port(), "");
             Socket client = p.connect("127.0.0.1")) {
            assertEquals("+OK Server ready.", readLine(client));
            write(client, "CAPA\r\n");
            assertEquals("+OK Capability list follows.", readLine(client));
            assertEquals("CAPA", readLine(client));
            assertEquals("STLS", readLine(client));
            assertEquals(".", readLine(client));
            write(client, "USER bob\r\n");
            assertTrue(readLine(client).startsWith("-ERR [AUTH]"));
            write(client, "STLS\r\nUSER mallory\r\n");
            assertEquals("+OK Begin TLS negotiation now.", readLine(client));
            try (SSLSocket tls = upgrade(client)) {
                write(tls, "CAPA\r\n");
                assertEquals("+OK done CAPA", readLine(tls), "the server's answer, not its greeting");
                assertEquals("CAPA", nextReceived());
                write(tls, "QUIT\r\n");
                readLine(tls);
                String line = p.lineOf(client, Duration.ofSeconds(20));
                assertTrue(line.contains("refused before STARTTLS: USER"), line);
                assertTrue(line.contains("discarded " + "USER mallory\r\n".length() + " bytes"), line);
            }
            assertFalse(received.contains("USER mallory"));
            assertFalse(received.contains("USER bob"));
        }
    }

    // ---- LMTP ----

    @Test
    void lmtpMultiLineGreetingIsTakenOutWholeAndInjectionIsDiscarded() throws Exception {
        // a greeting in two lines and two writes: the filter must wait for the last line
        try (ScriptedServer server = lmtpServer(List.of("220-backend.test first line\r\n", "220 backend.test LMTP ready\r\n"),
                "250-backend.test\r\n250 PIPELINING\r\n", "250 2.0.0 ok\r\n");
             ProxyRunner p = proxy("lmtp", "starttls", server.port(), "");
             Socket client = p.connect("127.0.0.1")) {
            assertEquals("220 mx.test LMTP ready", readLine(client));
            write(client, "LHLO client.test\r\n");
            assertEquals("250-mx.test", readLine(client));
            assertEquals("250-ENHANCEDSTATUSCODES", readLine(client));
            assertEquals("250 STARTTLS", readLine(client));
            write(client, "MAIL FROM:<a@example.test>\r\n");
            assertEquals("530 5.7.0 Must issue a STARTTLS command first", readLine(client));
            write(client, "STARTTLS\r\nMAIL FROM:<evil@example.test>\r\n");
            assertEquals("220 2.0.0 Ready to start TLS", readLine(client));
            try (SSLSocket tls = upgrade(client)) {
                write(tls, "LHLO client.test\r\n");
                assertEquals("250-backend.test", readLine(tls));
                assertEquals("250 PIPELINING", readLine(tls));
                assertEquals("LHLO client.test", nextReceived());
                write(tls, "QUIT\r\n");
                assertEquals("221 bye", readLine(tls));
            }
            assertFalse(received.stream().anyMatch(l -> l.startsWith("MAIL")), received.toString());
        }
    }

    // ---- starttls-optional ----

    @Test
    void optionalImapClientMayStayInPlaintext() throws Exception {
        try (ScriptedServer server = recording("* OK scripted ready\r\n", "%s NO plaintext\r\n");
             ProxyRunner p = proxy("imap", "starttls-optional", server.port(), "");
             Socket client = p.connect("127.0.0.1")) {
            String greeting = readLine(client);
            assertTrue(greeting.contains("STARTTLS") && !greeting.contains("LOGINDISABLED"), greeting);
            write(client, "a LOGIN x y\r\n");
            assertEquals("a NO plaintext", readLine(client), "the server's answer, not its greeting");
            assertEquals("a LOGIN x y", nextReceived());
            write(client, "b LOGOUT\r\n");
            readLine(client);
            String line = p.lineOf(client, Duration.ofSeconds(20));
            assertTrue(line.contains(" ok"), line);
        }
    }

    @Test
    void optionalLmtpReplaysTheLhloAndDropsItsReply() throws Exception {
        try (ScriptedServer server = lmtpServer(List.of("220 backend.test LMTP ready\r\n"),
                "250-backend.test\r\n250 8BITMIME\r\n", "250 2.1.0 sender ok\r\n");
             ProxyRunner p = proxy("lmtp", "starttls-optional", server.port(), "");
             Socket client = p.connect("127.0.0.1")) {
            readLine(client);
            write(client, "LHLO client.test\r\n");
            assertEquals("250-mx.test", readLine(client));
            assertEquals("250-ENHANCEDSTATUSCODES", readLine(client));
            assertEquals("250 STARTTLS", readLine(client));
            write(client, "MAIL FROM:<a@example.test>\r\n");
            assertEquals("250 2.1.0 sender ok", readLine(client));
            assertEquals("LHLO client.test", nextReceived());
            assertEquals("MAIL FROM:<a@example.test>", nextReceived());
            write(client, "QUIT\r\n");
            assertEquals("221 bye", readLine(client));
        }
    }

    // ---- bounds ----

    @Test
    void aClientThatNeverUpgradesIsClosedAtTheStartTlsTimeout() throws Exception {
        try (ScriptedServer server = recording("* OK scripted ready\r\n", "%s OK\r\n");
             ProxyRunner p = proxy("imap", "starttls", server.port(), ", starttls.timeout = 1s");
             Socket client = p.connect("127.0.0.1")) {
            readLine(client);
            assertNull(readLine(client), "closed without a word");
            String line = p.lineOf(client, Duration.ofSeconds(20));
            assertTrue(line.contains("starttls-timeout"), line);
            assertEquals(0, server.accepted());
        }
    }

    @Test
    void aTooLongCommandLineEndsTheDialogue() throws Exception {
        try (ScriptedServer server = recording("* OK scripted ready\r\n", "%s OK\r\n");
             ProxyRunner p = proxy("imap", "starttls", server.port(), "");
             Socket client = p.connect("127.0.0.1")) {
            readLine(client);
            write(client, "a " + "x".repeat(PreTlsHandler.MAX_LINE));
            assertEquals("* BYE Command line too long.", readLine(client));
            String line = p.lineOf(client, Duration.ofSeconds(20));
            assertTrue(line.contains("starttls-violation"), line);
            assertEquals(0, server.accepted());
        }
    }

    /** Negative control for the bound: a line just under it is answered, not refused as too long. */
    @Test
    void aLongLineUnderTheBoundIsAnswered() throws Exception {
        try (ScriptedServer server = recording("* OK scripted ready\r\n", "%s OK\r\n");
             ProxyRunner p = proxy("imap", "starttls", server.port(), "");
             Socket client = p.connect("127.0.0.1")) {
            readLine(client);
            write(client, "a X" + "x".repeat(PreTlsHandler.MAX_LINE - 6) + "\r\n");
            assertEquals("a BAD Command not permitted before STARTTLS.", readLine(client));
        }
    }
}
