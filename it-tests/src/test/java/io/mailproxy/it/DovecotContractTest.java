package io.mailproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.dovecot.Dovecot;
import io.mailproxy.dovecot.DovecotException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What Dovecot 2.3 does with the PROXY headers mailproxy sends, against a real instance.
 *
 * <p>These facts are the contract the proxy relies on: the SSL TLV makes Dovecot treat the session
 * as secured (so {@code disable_plaintext_auth = yes} still allows LOGIN) and {@code rip=} shows the
 * client address from the header. Needs Dovecot 2.3 installed; fails (does not skip) without it.
 */
class DovecotContractTest {

    private static final String HOST = "127.0.0.1";
    private static final Duration LOG_WAIT = Duration.ofSeconds(5);

    private static Dovecot dovecot;

    @BeforeAll
    static void start() {
        dovecot = Dovecot.start(Dovecot.Options.builder().name("dctest").build());
    }

    @AfterAll
    static void stop() {
        if (dovecot != null) {
            dovecot.close();
        }
    }

    /** (a) SSL TLV (client=0x01, verify=0, VERSION "TLSv1.3"): LOGIN allowed, logged as secured. */
    @Test
    void loginWithSslTlvIsAllowedAndLoggedWithTheHeaderSource() throws IOException {
        List<String> reply;
        try (TextSession s = TextSession.open(HOST, dovecot.ports().imapHaproxy(),
                TextSession.v2("127.0.0.2", 5555, "127.0.0.1", 9993, true))) {
            String greeting = s.readLine();
            assertTrue(greeting.startsWith("* OK") && !greeting.contains("LOGINDISABLED"), greeting);
            reply = s.imap("a", "LOGIN alice demo");
            s.imap("b", "LOGOUT");
        }
        assertTrue(reply.get(reply.size() - 1).startsWith("a OK"), reply.toString());
        String login = dovecot.awaitLog(Pattern.compile("imap-login: Info: Login: user=<alice>"), LOG_WAIT);
        assertTrue(login.contains("method=PLAIN, rip=127.0.0.2, lip=127.0.0.1,"), login);
        assertTrue(login.contains(", secured, session=<"), login);
    }

    /** (b) The same header without the SSL TLV: LOGIN refused as plaintext on an insecure connection. */
    @Test
    void loginWithoutSslTlvIsRefused() throws IOException {
        List<String> reply;
        try (TextSession s = TextSession.open(HOST, dovecot.ports().imapHaproxy(),
                TextSession.v2("127.0.0.2", 5555, "127.0.0.1", 9993, false))) {
            assertTrue(s.readLine().contains("LOGINDISABLED"));
            reply = s.imap("a", "LOGIN bob demo");
            s.imap("b", "LOGOUT");
        }
        assertEquals(List.of(
                "* BAD [ALERT] Plaintext authentication not allowed without SSL/TLS, but your client did it anyway."
                        + " If anyone was listening, the password was exposed.",
                "a NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections."),
                reply);
        String line = dovecot.awaitLog(Pattern.compile("Aborted login by logging out \\(auth failed.*user=<bob>"), LOG_WAIT);
        assertTrue(line.contains("rip=127.0.0.2, lip=127.0.0.1, session=<"), line);
        assertFalse(line.contains("secured"), line);
        assertTrue(dovecot.countLog(Pattern.compile(
                "imap-login: Info: Login failed: Plaintext authentication disabled: user=<>, rip=127.0.0.2")) >= 1);
    }

    /** (c) v2 LOCAL, as a health check sends: served with the socket's addresses, not secured. */
    @Test
    void localHeaderIsServedWithTheSocketAddresses() throws IOException {
        Pattern session = Pattern.compile("imap-login: Info: Disconnected: Aborted login by logging out "
                + "\\(no auth attempts in \\d+ secs\\): user=<>, rip=127.0.0.1, lip=127.0.0.1, session=<");
        long before = dovecot.countLog(session);
        List<String> capability;
        try (TextSession s = TextSession.open(HOST, dovecot.ports().imapHaproxy(), TextSession.v2Local())) {
            assertTrue(s.readLine().startsWith("* OK"));
            capability = s.imap("a", "CAPABILITY");
            s.imap("b", "LOGOUT");
        }
        // LOCAL does not count as secured although both ends are 127.0.0.1 (a plain loopback connection would).
        assertTrue(capability.get(0).startsWith("* CAPABILITY") && capability.get(0).endsWith("LOGINDISABLED"),
                capability.toString());
        dovecot.awaitLogCount(session, before + 1, LOG_WAIT);
    }

    /** (d) A v1 header is accepted; v1 cannot carry TLS information, so LOGIN is refused. */
    @Test
    void v1HeaderSetsTheClientAddressButNotSecured() throws IOException {
        List<String> reply;
        try (TextSession s = TextSession.open(HOST, dovecot.ports().imapHaproxy(),
                "PROXY TCP4 127.0.0.2 127.0.0.1 5555 9993\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
            assertTrue(s.readLine().startsWith("* OK"));
            reply = s.imap("a", "LOGIN dave demo");
            s.imap("b", "LOGOUT");
        }
        assertTrue(reply.get(reply.size() - 1).startsWith("a NO [PRIVACYREQUIRED]"), reply.toString());
        String line = dovecot.awaitLog(Pattern.compile("Aborted login.*user=<dave>"), LOG_WAIT);
        assertTrue(line.contains("rip=127.0.0.2, lip=127.0.0.1,"), line);
    }

    /** (e) POP3 USER/PASS through the haproxy listener with the SSL TLV. */
    @Test
    void pop3LoginWithSslTlv() throws IOException {
        try (TextSession s = TextSession.open(HOST, dovecot.ports().pop3Haproxy(),
                TextSession.v2("127.0.0.2", 5555, "127.0.0.1", 9995, true))) {
            assertTrue(s.readLine().startsWith("+OK"));
            assertEquals("+OK", s.command("USER erin"));
            assertEquals("+OK Logged in.", s.command("PASS demo"));
            assertEquals("+OK Logging out.", s.command("QUIT"));
        }
        String login = dovecot.awaitLog(Pattern.compile("pop3-login: Info: Login: user=<erin>"), LOG_WAIT);
        assertTrue(login.contains("rip=127.0.0.2, lip=127.0.0.1,") && login.contains(", secured,"), login);
    }

    /** (f) LMTP through the haproxy listener; the message is then readable over IMAP. */
    @Test
    void lmtpDeliveryIsReadableOverImap() throws IOException {
        String token = "token-" + System.nanoTime();
        try (TextSession s = TextSession.open(HOST, dovecot.ports().lmtpHaproxy(),
                TextSession.v2("127.0.0.2", 5555, "127.0.0.1", 24, false))) {
            assertTrue(s.readLine().startsWith("220 "));
            assertTrue(s.lhlo("mx.example.com").startsWith("250 "));
            assertTrue(s.command("MAIL FROM:<sender@example.net>").startsWith("250 2.1.0"));
            assertTrue(s.command("RCPT TO:<carol@example.com>").startsWith("250 2.1.5"));
            assertTrue(s.command("DATA").startsWith("354"));
            String saved = s.command("Subject: test\r\n\r\n" + token + "\r\n.");
            assertTrue(saved.startsWith("250 2.0.0 <carol@example.com>") && saved.endsWith(" Saved"), saved);
            assertTrue(s.command("QUIT").startsWith("221"));
        }
        dovecot.awaitLog(Pattern.compile("lmtp\\(\\d+\\): Info: Connect from 127\\.0\\.0\\.2$"), LOG_WAIT);
        dovecot.awaitLog(Pattern.compile("lmtp\\(carol@example.com\\).*saved mail to INBOX"), LOG_WAIT);

        // The plain listener from 127.0.0.1 to 127.0.0.1: Dovecot counts loopback as secured.
        try (TextSession s = TextSession.open(HOST, dovecot.ports().imap(), new byte[0])) {
            assertTrue(s.readLine().startsWith("* OK"));
            assertTrue(last(s.imap("a", "LOGIN carol demo")).startsWith("a OK"));
            assertTrue(last(s.imap("b", "SELECT INBOX")).startsWith("b OK"));
            List<String> fetch = s.imap("c", "FETCH 1 BODY[TEXT]");
            assertTrue(String.join("\n", fetch).contains(token), fetch.toString());
            s.imap("d", "LOGOUT");
        }
        assertTrue(Files.isDirectory(dovecot.home("carol@example.com").resolve("Maildir")));
    }

    /** (g) A peer outside haproxy_trusted_networks is closed at once, before any greeting. */
    @Test
    void untrustedPeerIsClosedWithoutGreeting() throws IOException {
        try (Dovecot untrusting = Dovecot.start(Dovecot.Options.builder().name("dcuntrust")
                .haproxyTrustedNetworks("10.0.0.0/8").build())) {
            Pattern notTrusted = Pattern.compile("imap-login: Warning: haproxy: Client not trusted \\(rip=127.0.0.1\\)");
            long before = untrusting.countLog(notTrusted);
            try (TextSession s = TextSession.open(HOST, untrusting.ports().imapHaproxy(),
                    TextSession.v2("127.0.0.2", 5555, "127.0.0.1", 9993, true))) {
                String rest = s.readToEnd();
                assertFalse(rest.contains("* OK"), rest);
            }
            untrusting.awaitLogCount(notTrusted, before + 1, LOG_WAIT);
        }
    }

    /** Negative control for the launcher: a taken port fails start with Dovecot's own reason. */
    @Test
    void takenPortFailsStartWithTheReason() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            DovecotException e = assertThrows(DovecotException.class, () -> Dovecot.start(
                    Dovecot.Options.builder().name("dctaken").imapPort(taken.getLocalPort()).build()));
            assertTrue(e.getMessage().contains("listen(127.0.0.1, " + taken.getLocalPort()
                    + ") failed: Address already in use"), e.getMessage());
        }
    }

    @Test
    void closeStopsTheProcessAndDeletesTheBaseDir() {
        Dovecot dc = Dovecot.start(Dovecot.Options.builder().name("dcclose").build());
        Path base = dc.baseDir();
        assertTrue(dc.isRunning());
        assertTrue(base.toString().length() < 60, base.toString());
        dc.close();
        assertFalse(dc.isRunning());
        assertFalse(Files.exists(base), base.toString());
    }

    @Test
    void availabilityIsReported() {
        assertNull(Dovecot.unavailableReason());
        assertTrue(dovecot.version().startsWith("2.3."), dovecot.version());
    }

    private static String last(List<String> lines) {
        return lines.get(lines.size() - 1);
    }
}
