package io.mailproxy.it;

import io.mailproxy.log.LogCapture;
import static io.mailproxy.it.Clients.CLIENT_IP;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.dovecot.Dovecot;
import io.mailproxy.dovecot.DovecotPorts;
import io.mailproxy.tls.GeneratedCertificate;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import org.apache.commons.net.pop3.POP3MessageInfo;
import org.apache.commons.net.pop3.POP3SClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * IMAPS, POP3S and LMTP over TLS through mailproxy to one real Dovecot (2.3 or 2.4, the run's
 * {@link io.mailproxy.dovecot.DovecotTarget}) that refuses plaintext authentication on connections
 * it does not count as secured, with real clients (commons-net's POP3SClient, openssl s_client,
 * swaks) and a raw TLS client where bytes must be compared exactly.
 *
 * <p>Dovecot allows a plaintext LOGIN only on a connection it considers secured. Behind mailproxy
 * the hop to Dovecot is plaintext, so a successful LOGIN proves that the PROXY v2 header carried
 * the SSL TLV; the negative controls use a backend with {@code send-proxy = v2} (no SSL TLV), where
 * the same LOGIN is refused. Clients connect from 127.0.0.2 and mailproxy from 127.0.0.1, so
 * {@code rip=127.0.0.2} in Dovecot's log can only come from the header.
 */
@Tag("dovecot")
class MailThroughProxyTest {

    private static final Duration LOG_WAIT = Duration.ofSeconds(10);
    private static final Duration CLIENT_WAIT = Duration.ofSeconds(60);
    private static final SecureRandom RANDOM = new SecureRandom();

    @TempDir
    static Path dir;

    private static Dovecot dovecot;
    private static GeneratedCertificate cert;
    private static SSLContext tls;
    private static LogCapture sessions;
    private static ProxyFixture proxy;
    private static int imaps;
    private static int imapsNoSslTlv;
    private static int pop3s;
    private static int pop3sNoSslTlv;
    private static int lmtps;

    @BeforeAll
    static void start() {
        dovecot = Dovecot.start("it-mail");
        cert = ProxyFixture.certificate(dir);
        tls = Clients.trusting(cert);
        imaps = FreePorts.next();
        imapsNoSslTlv = FreePorts.next();
        pop3s = FreePorts.next();
        pop3sNoSslTlv = FreePorts.next();
        lmtps = FreePorts.next();
        String t = ProxyFixture.implicitTls(cert);
        DovecotPorts dc = dovecot.ports();
        sessions = LogCapture.sessions();
        // send-proxy is left at its default (v2-ssl) where the SSL TLV is wanted: the default is
        // what users get, so it is what must work.
        proxy = ProxyFixture.start(dir, "mail", """
                mailproxy {
                  frontends {
                    %s    %s    %s    %s    %s  }
                  backends {
                    imap { servers = [%s] }
                    imap-v2 { send-proxy = v2, servers = [%s] }
                    pop3 { servers = [%s] }
                    pop3-v2 { send-proxy = v2, servers = [%s] }
                    lmtp { servers = [%s] }
                  }
                }
                """.formatted(
                ProxyFixture.frontend("imaps", imaps, "imap", "imap", t),
                ProxyFixture.frontend("imaps-v2", imapsNoSslTlv, "imap", "imap-v2", t),
                ProxyFixture.frontend("pop3s", pop3s, "pop3", "pop3", t),
                ProxyFixture.frontend("pop3s-v2", pop3sNoSslTlv, "pop3", "pop3-v2", t),
                ProxyFixture.frontend("lmtps", lmtps, "lmtp", "lmtp", t),
                ProxyFixture.server("dc1", dc.imapHaproxy()),
                ProxyFixture.server("dc1", dc.imapHaproxy()),
                ProxyFixture.server("dc1", dc.pop3Haproxy()),
                ProxyFixture.server("dc1", dc.pop3Haproxy()),
                ProxyFixture.server("dc1", dc.lmtpHaproxy())));
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (sessions != null) {
            sessions.close();
        }
        if (dovecot != null) {
            dovecot.close();
        }
    }

    /**
     * LOGIN allowed, and Dovecot logs the client's own address as secured.
     *
     * <p>A raw TLS client, not commons-net's IMAPSClient: commons-net 3.11.1 cannot parse a tagged
     * reply longer than about 80 characters (NET-734, fixed in 3.12.0), and Dovecot's reply to
     * LOGIN carries its whole CAPABILITY list.
     */
    @Test
    void imapsLoginIsSecuredAndDovecotSeesTheClientAddress() throws IOException {
        String user = user("alice");
        try (LineClient c = new LineClient(Clients.tls(tls, imaps))) {
            String greeting = c.readLine();
            assertTrue(greeting.startsWith("* OK") && !greeting.contains("LOGINDISABLED"), greeting);
            List<String> login = c.imap("a", "LOGIN " + user + " demo");
            assertTrue(last(login).startsWith("a OK"), login.toString());
            c.imap("b", "LOGOUT");
        }
        String line = dovecot.awaitLog(dovecot.version().login("imap", user), LOG_WAIT);
        assertTrue(line.contains(", rip=" + CLIENT_IP + ", lip=127.0.0.1,"), line);
        assertTrue(dovecot.version().securedLogin("imap", user).matcher(line).find(), "secured by TLS: " + line);
    }

    /** Negative control: the same LOGIN through a backend that sends v2 without the SSL TLV is refused. */
    @Test
    void imapsLoginWithoutSslTlvIsRefused() throws IOException {
        String user = user("bob");
        List<String> login;
        try (LineClient c = new LineClient(Clients.tls(tls, imapsNoSslTlv))) {
            String greeting = c.readLine();
            assertTrue(greeting.contains("LOGINDISABLED"), greeting);
            login = c.imap("a", "LOGIN " + user + " demo");
            c.imap("b", "LOGOUT");
        }
        assertTrue(last(login).startsWith("a NO [PRIVACYREQUIRED]"), login.toString());
        // The header still carried the client's address: only the SSL TLV is missing.
        String aborted = dovecot.awaitLog(dovecot.version().loggedOutBeforeLogin("imap", "auth failed, .*", user), LOG_WAIT);
        assertTrue(aborted.contains("rip=" + CLIENT_IP + ","), aborted);
        assertEquals(0, dovecot.countLog(dovecot.version().login("imap", user)), dovecot.logTail(20));
    }

    /**
     * The session log line, exactly: client address and port, time, {@code frontend~}, backend and
     * server, timers, the bytes each way as this client counted them, {@code --} and {@code ok}.
     */
    @Test
    void sessionLogLineHasHaproxyShapeAndExactByteCounts() throws IOException {
        int port;
        long received;
        long sent;
        try (LineClient c = new LineClient(Clients.tls(tls, imaps))) {
            port = c.localPort();
            assertTrue(c.readLine().startsWith("* OK"));
            List<String> login = c.imap("a", "LOGIN " + user("erin") + " demo");
            assertTrue(last(login).startsWith("a OK"), login.toString());
            assertTrue(last(c.imap("b", "LOGOUT")).startsWith("b OK"));
            // Dovecot closes after LOGOUT; reading to the end makes the byte count complete.
            c.readToEnd();
            received = c.bytesReceived();
            sent = c.bytesSent();
        }
        String line = sessions.awaitClient(CLIENT_IP, port, LOG_WAIT);
        Matcher m = Pattern.compile("^127\\.0\\.0\\.2:" + port
                + " \\[\\d{2}/[A-Z][a-z]{2}/\\d{4}:\\d{2}:\\d{2}:\\d{2}\\.\\d{3}] imaps~ imap/dc1 "
                + "0/(\\d+)/(\\d+) (\\d+) -- \\d+/\\d+/\\d+/\\d+/0 0/0 (\\d+) ok$").matcher(line);
        assertTrue(m.matches(), line);
        assertTrue(Long.parseLong(m.group(1)) <= Long.parseLong(m.group(2)), "connect time within total: " + line);
        assertEquals(received, Long.parseLong(m.group(3)), "bytes to the client: " + line);
        assertEquals(sent, Long.parseLong(m.group(4)), "bytes from the client: " + line);
    }

    /** commons-net POP3SClient from 127.0.0.2: USER/PASS and STAT succeed, Dovecot sees a secured login. */
    @Test
    void pop3sLoginAndStatSucceed() throws IOException {
        String user = user("frank");
        POP3SClient client = pop3sClient();
        client.connect(Clients.proxyAddress(), pop3s, Clients.clientAddress(), 0);
        try {
            assertTrue(client.getReplyString().startsWith("+OK"), client.getReplyString());
            assertTrue(client.login(user, "demo"), client.getReplyString());
            POP3MessageInfo stat = client.status();
            assertNotNull(stat, client.getReplyString());
            assertEquals(0, stat.number, "a new user's maildrop is empty");
            assertTrue(client.logout(), client.getReplyString());
        } finally {
            client.disconnect();
        }
        String line = dovecot.awaitLog(dovecot.version().login("pop3", user), LOG_WAIT);
        assertTrue(line.contains(", rip=" + CLIENT_IP + ", "), line);
        assertTrue(dovecot.version().securedLogin("pop3", user).matcher(line).find(), "secured by TLS: " + line);
    }

    /** Negative control: POP3 without the SSL TLV is refused the plaintext USER/PASS. */
    @Test
    void pop3sLoginWithoutSslTlvIsRefused() throws IOException {
        POP3SClient client = pop3sClient();
        client.connect(Clients.proxyAddress(), pop3sNoSslTlv, Clients.clientAddress(), 0);
        try {
            assertTrue(client.getReplyString().startsWith("+OK"), client.getReplyString());
            assertFalse(client.login(user("gina"), "demo"));
            assertTrue(client.getReplyString().startsWith("-ERR"), client.getReplyString());
            assertTrue(client.getReplyString().contains(dovecot.version().cleartextRefusal()), client.getReplyString());
        } finally {
            client.disconnect();
        }
    }

    /**
     * swaks delivers over LMTP with implicit TLS; the message read back over IMAPS, both through
     * mailproxy, has exactly the body that was sent: 8-bit text, a 5000-byte line, lines that
     * start with a dot (swaks dot-stuffs them, Dovecot removes the stuffing) and about 2 MB of
     * random text for bulk. A recipient the message was not sent to does not see it.
     */
    @Test
    void lmtpDeliveryIsReadBackByteForByte() throws IOException {
        String token = HexFormat.of().formatHex(randomBytes(12));
        String body = messageBody(token);
        Path data = dir.resolve("message-" + token + ".eml");
        String message = "From: a@example.com\r\nTo: carol@example.com\r\nSubject: relay " + token
                + "\r\nMessage-Id: <" + token + "@example.com>\r\n\r\n" + body;
        Files.write(data, message.getBytes(StandardCharsets.UTF_8));

        ExternalClient.Result swaks = ExternalClient.run(dir, List.of("swaks",
                "--to", "carol@example.com", "--from", "a@example.com",
                "--server", "127.0.0.1:" + lmtps, "--protocol", "LMTP", "--tls-on-connect",
                "--local-interface", CLIENT_IP, "--suppress-data", "--timeout", "30",
                "--data", "@" + data), List.of(), CLIENT_WAIT);
        assertEquals(0, swaks.exitCode(), swaks.output());
        assertTrue(Pattern.compile("(?m)^<~ +250 .*<carol@example.com>").matcher(swaks.output()).find(), swaks.output());

        // swaks ends the data with CRLF "." CRLF, so the stored body gains the final CRLF.
        byte[] expected = (body + "\r\n").getBytes(StandardCharsets.UTF_8);
        assertArrayEquals(expected, fetchBody("carol", token));
        assertNull(fetchBody("dave", token), "delivered to carol only");
    }

    /** openssl s_client: LOGIN and LOGOUT answered OK through the TLS frontend. */
    @Test
    void opensslClientLogsIn() {
        String user = user("olga");
        String out = opensslImap(imaps, user);
        assertTrue(out.contains("\na OK"), out);
        assertTrue(out.contains("\nb OK Logout completed"), out);
        String line = dovecot.awaitLog(dovecot.version().securedLogin("imap", user), LOG_WAIT);
        assertTrue(line.contains(", rip=" + CLIENT_IP + ", "), line);
    }

    /** Negative control: the same s_client session through the backend without the SSL TLV. */
    @Test
    void opensslClientIsRefusedWithoutSslTlv() {
        String out = opensslImap(imapsNoSslTlv, user("olga"));
        assertTrue(out.contains("\na NO [PRIVACYREQUIRED]"), out);
        assertFalse(out.contains("\na OK"), out);
    }

    private static String opensslImap(int port, String user) {
        // From 127.0.0.2 like every client here: Dovecot 2.4 counts a PROXY source equal to the
        // destination (127.0.0.1 to 127.0.0.1) as secured, which would void the negative control.
        ExternalClient.Result r = ExternalClient.run(dir, List.of("openssl", "s_client", "-quiet", "-ign_eof",
                "-bind", CLIENT_IP + ":0", "-connect", "127.0.0.1:" + port, "-servername", "localhost",
                "-CAfile", cert.caFile().toString(), "-verify_return_error"),
                List.of("a LOGIN " + user + " demo", "b LOGOUT"), CLIENT_WAIT);
        assertEquals(0, r.exitCode(), r.output());
        return "\n" + r.output().replace("\r\n", "\n");
    }

    /**
     * Logs in as {@code user} over IMAPS (raw client from 127.0.0.2) and returns BODY[TEXT] of the
     * message whose subject holds the token, or null when the INBOX has no such message.
     */
    private static byte[] fetchBody(String user, String token) throws IOException {
        try (LineClient c = new LineClient(Clients.tls(tls, imaps))) {
            assertTrue(c.readLine().startsWith("* OK"));
            assertTrue(last(c.imap("a", "LOGIN " + user + " demo")).startsWith("a OK"));
            assertTrue(last(c.imap("b", "SELECT INBOX")).startsWith("b OK"));
            List<String> search = c.imap("c", "SEARCH SUBJECT " + token);
            List<String> hits = new ArrayList<>();
            for (String line : search) {
                if (line.startsWith("* SEARCH")) {
                    hits.addAll(List.of(line.substring("* SEARCH".length()).trim().split(" +")));
                }
            }
            hits.removeIf(String::isEmpty);
            byte[] body = null;
            if (!hits.isEmpty()) {
                assertEquals(1, hits.size(), search.toString());
                body = c.fetchLiteral("d", "FETCH " + hits.get(0) + " BODY.PEEK[TEXT]");
            }
            c.imap("e", "LOGOUT");
            return body;
        }
    }

    /** Lines joined by CRLF, without a final CRLF (swaks adds the one before the final dot). */
    private static String messageBody(String token) {
        List<String> lines = new ArrayList<>();
        lines.add("Token " + token);
        lines.add("8-bit text: Grüße aus Köln, naïve café, ½ € — 日本語, ελληνικά");
        lines.add(".a line starting with a dot");
        lines.add("..a line starting with two dots");
        lines.add(".");
        lines.add("the line above is a lone dot, which must not end the DATA");
        lines.add("x".repeat(2500) + token + "y".repeat(2500 - token.length()));
        // ~2 MB in 76-character lines, as base64 attachments are: bulk through TLS and Dovecot.
        String filler = Base64.getEncoder().encodeToString(randomBytes(1_500_000));
        for (int i = 0; i < filler.length(); i += 76) {
            lines.add(filler.substring(i, Math.min(filler.length(), i + 76)));
        }
        lines.add("end " + token);
        return String.join("\r\n", lines);
    }

    private static POP3SClient pop3sClient() {
        POP3SClient client = new POP3SClient(true, tls);
        client.setEndpointCheckingEnabled(true);
        client.setDefaultTimeout(Clients.READ_TIMEOUT_MS);
        return client;
    }

    /** A user name of its own per test, so log lines of other tests never match. */
    private static String user(String name) {
        return name + "-" + HexFormat.of().formatHex(randomBytes(3));
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    private static String last(List<String> lines) {
        return lines.get(lines.size() - 1);
    }
}
