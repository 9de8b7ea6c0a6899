package io.mailproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.dovecot.Dovecot;
import io.mailproxy.dovecot.DovecotOptions;
import io.mailproxy.dovecot.DovecotVersion;
import java.io.IOException;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * What real Dovecot (the run's target: 2.3 or 2.4) does with the PROXY headers a proxy sends,
 * byte for byte, without mailproxy in between.
 *
 * <p>These facts are the contract mailproxy relies on: the SSL TLV makes Dovecot treat the session
 * as secured (so a plaintext LOGIN is allowed while plaintext authentication is otherwise refused),
 * {@code rip=} shows the client address from the header, and what 2.4 refuses that 2.3 took
 * (an AUTHORITY that is no host name, and, in Debian's 2.4.1, every ALPN TLV). Each refusal has
 * its accepted counterpart next to it, so a test that cannot fail would show.
 */
@Tag("dovecot")
class DovecotContractTest {

    private static final String HOST = "127.0.0.1";
    private static final Duration LOG_WAIT = Duration.ofSeconds(30);

    private static Dovecot dovecot;
    private static DovecotVersion version;

    @BeforeAll
    static void start() {
        dovecot = Dovecot.start("dctest");
        version = dovecot.version();
    }

    @AfterAll
    static void stop() {
        if (dovecot != null) {
            dovecot.close();
        }
    }

    /** (a) SSL TLV (client=0x01, verify=0, VERSION "TLSv1.3"): LOGIN allowed, logged as secured by TLS. */
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
        assertTrue(last(reply).startsWith("a OK"), reply.toString());
        String login = dovecot.awaitLog(version.login("imap", "alice"), LOG_WAIT);
        assertTrue(login.contains("method=PLAIN, rip=127.0.0.2, lip=127.0.0.1,"), login);
        assertTrue(version.securedLogin("imap", "alice").matcher(login).find(), login);
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
        assertEquals("a NO [PRIVACYREQUIRED] " + version.cleartextRefusal(), last(reply), reply.toString());
        assertTrue(reply.get(0).startsWith("* BAD [ALERT] "), reply.toString());
        String line = dovecot.awaitLog(version.loggedOutBeforeLogin("imap", "auth failed, \\d+ attempts in \\d+ secs", "bob"),
                LOG_WAIT);
        assertTrue(line.contains("rip=127.0.0.2, lip=127.0.0.1, session=<"), line);
        assertTrue(dovecot.countLog(Pattern.compile(
                "imap-login: Info: Login failed: \\w+ authentication disabled: user=<>, rip=127\\.0\\.0\\.2")) >= 1);
    }

    /**
     * (b') Without the SSL TLV but with the header's source equal to its destination: 2.4 counts
     * the connection as secured (as a client on the server's own address), 2.3 does not. So a
     * negative control against 2.4 needs a source other than the destination, as mailproxy's
     * clients have here.
     */
    @Test
    void sourceEqualToDestinationIsSecuredOnlyIn24() throws IOException {
        List<String> reply;
        try (TextSession s = TextSession.open(HOST, dovecot.ports().imapHaproxy(),
                TextSession.v2("127.0.0.1", 5555, "127.0.0.1", 9993, false))) {
            s.readLine();
            reply = s.imap("a", "LOGIN carl demo");
            s.imap("b", "LOGOUT");
        }
        assertEquals(version == DovecotVersion.V2_4, last(reply).startsWith("a OK"), reply.toString());
    }

    /** (c) v2 LOCAL, as a health check sends: served with the socket's addresses. */
    @Test
    void localHeaderIsServedWithTheSocketAddresses() throws IOException {
        Pattern session = Pattern.compile(version.loggedOutBeforeLogin("imap", "no auth attempts in \\d+ secs", "")
                .pattern() + "rip=127\\.0\\.0\\.1, lip=127\\.0\\.0\\.1, ");
        long before = dovecot.countLog(session);
        List<String> capability;
        try (TextSession s = TextSession.open(HOST, dovecot.ports().imapHaproxy(), TextSession.v2Local())) {
            assertTrue(s.readLine().startsWith("* OK"));
            capability = s.imap("a", "CAPABILITY");
            s.imap("b", "LOGOUT");
        }
        // Both ends are 127.0.0.1: 2.4 counts that as secured, 2.3 does not for a LOCAL header.
        assertEquals(version == DovecotVersion.V2_3, capability.get(0).endsWith("LOGINDISABLED"), capability.toString());
        dovecot.awaitLogCount(session, before + 1, LOG_WAIT);
    }

    /** (d) A v1 header is accepted; v1 cannot carry TLS information, so LOGIN is refused. */
    @Test
    void v1HeaderSetsTheClientAddressButNotSecured() throws IOException {
        List<String> reply;
        try (TextSession s = TextSession.open(HOST, dovecot.ports().imapHaproxy(),
                "PROXY TCP4 127.0.0.2 127.0.0.1 5555 9993\r\n".getBytes(StandardCharsets.US_ASCII))) {
            assertTrue(s.readLine().startsWith("* OK"));
            reply = s.imap("a", "LOGIN dave demo");
            s.imap("b", "LOGOUT");
        }
        assertTrue(last(reply).startsWith("a NO [PRIVACYREQUIRED]"), reply.toString());
        String line = dovecot.awaitLog(version.loggedOutBeforeLogin("imap", "auth failed, .*", "dave"), LOG_WAIT);
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
            assertTrue(s.command("QUIT").startsWith("+OK Logging out"));
        }
        String login = dovecot.awaitLog(version.login("pop3", "erin"), LOG_WAIT);
        assertTrue(login.contains("rip=127.0.0.2, lip=127.0.0.1,"), login);
        assertTrue(version.securedLogin("pop3", "erin").matcher(login).find(), login);
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
        assertTrue(Files.isDirectory(dovecot.mailbox("carol@example.com").resolve("new")));
    }

    /**
     * (g) AUTHORITY (TLV 0x02) that is not a host name: 2.4 drops the connection before its
     * greeting ("Invalid TLV: get_tlv(2) failed"), 2.3 takes it. A host name is taken by both: the
     * control that shows the refusal is about the value.
     */
    @Test
    void authorityMustBeAHostNameFor24() throws IOException {
        assertTrue(greetsWith(TextSession.v2("127.0.0.2", 5555, "127.0.0.1", 9993, true, null, "mail.example.com")));
        boolean greeted = greetsWith(TextSession.v2("127.0.0.2", 5556, "127.0.0.1", 9993, true, null, "bad!name"));
        assertEquals(version == DovecotVersion.V2_3, greeted, dovecot.logTail(5));
        if (version == DovecotVersion.V2_4) {
            dovecot.awaitLog(Pattern.compile("haproxy\\(v2\\): Client disconnected: Invalid TLV: get_tlv\\(2\\) failed"),
                    LOG_WAIT);
        }
    }

    /**
     * (h) ALPN {@code imap} (TLV 0x01): Debian's 2.4.1 drops the session, whatever the name ("HAproxy
     * application protocol mismatch" with a garbled name; fixed upstream in 2.4.2); 2.3.19 takes
     * any name. The control without the TLV is (a).
     */
    @Test
    void alpnIsRefusedByDebians241() throws IOException {
        List<String> reply;
        try (TextSession s = TextSession.open(HOST, dovecot.ports().imapHaproxy(),
                TextSession.v2("127.0.0.2", 5557, "127.0.0.1", 9993, true, "imap", null))) {
            String greeting = s.readLine();
            reply = greeting == null ? List.of() : s.imapOrEnd("a", "LOGIN frida demo");
        } catch (SocketException e) {
            reply = List.of(); // reset instead of closed: refused all the same
        }
        boolean refuses = dovecot.versionString().startsWith("2.4.1");
        assertEquals(!refuses, !reply.isEmpty() && last(reply).startsWith("a OK"), reply + "\n" + dovecot.logTail(5));
        if (refuses) {
            dovecot.awaitLog(Pattern.compile("imap-login: Error: HAproxy application protocol mismatch"), LOG_WAIT);
        }
    }

    /** (i) A peer outside haproxy_trusted_networks is closed at once, before any greeting. */
    @Test
    void untrustedPeerIsClosedWithoutGreeting() throws IOException {
        try (Dovecot untrusting = Dovecot.start(DovecotOptions.builder().name("dcuntrust")
                .haproxyTrustedNetworks("10.0.0.0/8").build())) {
            Pattern notTrusted = Pattern.compile("imap-login: Warning: haproxy: Client not trusted \\(rip=127.0.0.1\\)");
            long before = untrusting.countLog(notTrusted);
            try (TextSession s = TextSession.open(HOST, untrusting.ports().imapHaproxy(),
                    TextSession.v2("127.0.0.2", 5555, "127.0.0.1", 9993, true))) {
                String rest = s.readRest();
                assertFalse(rest.contains("* OK"), rest);
            }
            untrusting.awaitLogCount(notTrusted, before + 1, LOG_WAIT);
        }
    }

    /** Whether Dovecot greets after this header (rather than closing the connection). */
    private static boolean greetsWith(byte[] header) throws IOException {
        try (TextSession s = TextSession.open(HOST, dovecot.ports().imapHaproxy(), header)) {
            String greeting = s.readLine();
            return greeting != null && greeting.startsWith("* OK");
        } catch (SocketException e) {
            // A reset instead of a close: refused all the same.
            return false;
        }
    }

    private static String last(List<String> lines) {
        return lines.get(lines.size() - 1);
    }
}
