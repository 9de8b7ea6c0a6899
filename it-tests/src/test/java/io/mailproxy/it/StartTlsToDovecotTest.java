package io.mailproxy.it;

import static io.mailproxy.it.Clients.CLIENT_IP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.dovecot.Dovecot;
import io.mailproxy.dovecot.DovecotOptions;
import io.mailproxy.log.LogCapture;
import io.mailproxy.tls.GeneratedCertificate;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import org.apache.commons.net.imap.IMAPSClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * STARTTLS offload in front of real Dovecot (the run's target, with plaintext authentication
 * refused): clients no one here wrote ({@code openssl s_client -starttls imap|pop3|lmtp}, swaks,
 * commons-net's {@code IMAPSClient.execTLS()}, Debian's mbsync) upgrade with mailproxy, and Dovecot logs their
 * login as secured with the client's own address; the capability list after TLS is Dovecot's.
 * Negative controls: LOGIN before STARTTLS is refused by mailproxy and never reaches Dovecot;
 * with {@code starttls-optional}, a client that stays in plaintext is refused by Dovecot.
 */
@Tag("dovecot")
class StartTlsToDovecotTest {

    private static final Duration LOG_WAIT = Duration.ofSeconds(30);
    private static final Duration CLIENT_WAIT = Duration.ofSeconds(60);

    @TempDir
    static Path dir;

    private static Dovecot dovecot;
    private static GeneratedCertificate cert;
    private static ProxyFixture proxy;
    private static LogCapture sessions;
    private static int imap;
    private static int imapOptional;
    private static int pop3;
    private static int lmtp;

    @BeforeAll
    static void start() {
        dovecot = Dovecot.start(DovecotOptions.builder().name("it-starttls").disablePlaintextAuth(true).build());
        cert = ProxyFixture.certificate(dir);
        imap = FreePorts.next();
        imapOptional = FreePorts.next();
        pop3 = FreePorts.next();
        lmtp = FreePorts.next();
        sessions = LogCapture.sessions();
        proxy = ProxyFixture.start(dir, "starttls", """
                mailproxy {
                  frontends {
                    %s    %s    %s    %s  }
                  backends {
                    imap { servers = [%s] }
                    pop3 { servers = [%s] }
                    lmtp { servers = [%s] }
                  }
                }
                """.formatted(
                ProxyFixture.frontend("imap", imap, "imap", "imap", tls("starttls")),
                ProxyFixture.frontend("imap-optional", imapOptional, "imap", "imap", tls("starttls-optional")),
                ProxyFixture.frontend("pop3", pop3, "pop3", "pop3", tls("starttls")),
                ProxyFixture.frontend("lmtp", lmtp, "lmtp", "lmtp", tls("starttls")),
                ProxyFixture.server("dc1", dovecot.ports().imapHaproxy()),
                ProxyFixture.server("dc1", dovecot.ports().pop3Haproxy()),
                ProxyFixture.server("dc1", dovecot.ports().lmtpHaproxy())));
    }

    private static String tls(String mode) {
        return "tls { mode = " + mode + ", certificates = [{ cert = \"" + cert.certFile() + "\", key = \""
                + cert.keyFile() + "\" }], starttls.host-name = mx.example.test }";
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

    @Test
    void opensslImapStartTlsLogsInSecuredAndSeesDovecotsCapabilities() {
        String user = user("imap");
        String out = openssl(imap, "imap", "c CAPABILITY", "a LOGIN " + user + " demo", "b LOGOUT");
        assertTrue(out.contains("\na OK "), out);
        // after TLS the capability list is Dovecot's (AUTH=PLAIN), not mailproxy's (LOGINDISABLED)
        java.util.regex.Matcher caps = Pattern.compile("\n(\\* CAPABILITY [^\n]*)\nc OK").matcher(out);
        assertTrue(caps.find(), out);
        assertTrue(caps.group(1).contains("AUTH=PLAIN") && !caps.group(1).contains("LOGINDISABLED"), caps.group(1));
        String line = dovecot.awaitLog(dovecot.version().securedLogin("imap", user), LOG_WAIT);
        assertTrue(line.contains(", rip=" + CLIENT_IP + ", "), line);
    }

    @Test
    void opensslPop3StlsLogsInSecured() {
        String user = user("pop");
        String out = openssl(pop3, "pop3", "USER " + user, "PASS demo", "QUIT");
        assertTrue(out.contains("\n+OK Logged in"), out);
        String line = dovecot.awaitLog(dovecot.version().securedLogin("pop3", user), LOG_WAIT);
        assertTrue(line.contains(", rip=" + CLIENT_IP + ", "), line);
    }

    @Test
    void opensslLmtpStartTlsDelivers() {
        String user = user("lmtp");
        String out = openssl(lmtp, "lmtp", "LHLO client.example.test", "MAIL FROM:<a@example.test>",
                "RCPT TO:<" + user + "@example.com>", "DATA", "Subject: starttls", "", "over STARTTLS", ".", "QUIT");
        assertTrue(Pattern.compile("\n250 2\\.0\\.0 <" + user + "@example.com> .*Saved").matcher(out).find(), out);
        dovecot.awaitLog(Pattern.compile("lmtp\\(" + Pattern.quote(user) + "@example.com\\).*saved mail to INBOX"),
                LOG_WAIT);
        dovecot.awaitLog(Pattern.compile("lmtp\\(\\d+\\): Info: Connect from " + Pattern.quote(CLIENT_IP) + "$"), LOG_WAIT);
    }

    @Test
    void swaksDeliversOverLmtpStartTls() {
        String user = user("swaks");
        ExternalClient.Result swaks = ExternalClient.run(dir, List.of("swaks",
                "--to", user + "@example.com", "--from", "a@example.com",
                "--server", "127.0.0.1:" + lmtp, "--protocol", "LMTP", "--tls",
                "--local-interface", CLIENT_IP, "--timeout", "30"), List.of(), CLIENT_WAIT);
        assertEquals(0, swaks.exitCode(), swaks.output());
        assertTrue(swaks.output().contains("STARTTLS"), swaks.output());
        dovecot.awaitLog(Pattern.compile("lmtp\\(" + Pattern.quote(user) + "@example.com\\).*saved mail to INBOX"),
                LOG_WAIT);
    }

    @Test
    void commonsNetExecTlsLogsIn() throws IOException {
        String user = user("cnet");
        SSLContext trust = Clients.trusting(cert);
        IMAPSClient client = new IMAPSClient("TLS", false, trust);
        client.setDefaultTimeout(15_000);
        client.connect(Clients.proxyAddress(), imap, Clients.clientAddress(), 0);
        try {
            assertTrue(client.execTLS(), client.getReplyString());
            assertTrue(client.login(user, "demo"), client.getReplyString());
            client.logout();
        } finally {
            client.disconnect();
        }
        String line = dovecot.awaitLog(dovecot.version().securedLogin("imap", user), LOG_WAIT);
        assertTrue(line.contains(", rip=" + CLIENT_IP + ", "), line);
    }

    /**
     * mbsync (isync, Debian's) pulls a mailbox over IMAP STARTTLS through mailproxy: the message
     * delivered over LMTP STARTTLS arrives in the local Maildir, and Dovecot logged the login as secured.
     */
    @Test
    void mbsyncSyncsAMailboxOverStartTls() throws IOException {
        String user = user("mbsync");
        String token = "token-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
        String delivered = openssl(lmtp, "lmtp", "LHLO client.example.test", "MAIL FROM:<a@example.test>",
                "RCPT TO:<" + user + "@example.com>", "DATA", "Subject: " + token, "", token, ".", "QUIT");
        assertTrue(delivered.contains("Saved"), delivered);
        Path local = dir.resolve("mbsync-" + user);
        Files.createDirectories(local);
        Path config = Files.writeString(local.resolve("mbsyncrc"), """
                IMAPAccount acc
                Host 127.0.0.1
                Port %d
                User %s@example.com
                Pass demo
                SSLType STARTTLS
                CertificateFile %s
                AuthMechs LOGIN

                IMAPStore remote
                Account acc

                MaildirStore local
                Path %s/
                Inbox %s/INBOX
                SubFolders Verbatim

                Channel ch
                Far :remote:
                Near :local:
                Patterns INBOX
                Create Near
                Sync Pull
                SyncState *
                """.formatted(imap, user, cert.certFile(), local, local));
        ExternalClient.Result r = ExternalClient.run(local, List.of("mbsync", "-V", "-c", config.toString(), "ch"),
                List.of(), CLIENT_WAIT);
        assertEquals(0, r.exitCode(), r.output());
        try (var files = Files.walk(local.resolve("INBOX"))) {
            assertTrue(files.filter(Files::isRegularFile).anyMatch(f -> read(f).contains(token)), r.output());
        }
        dovecot.awaitLog(dovecot.version().securedLogin("imap", user + "@example.com"), LOG_WAIT);
    }

    private static String read(Path f) {
        try {
            return Files.readString(f, java.nio.charset.StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "";
        }
    }

    /** Negative control: LOGIN before STARTTLS is refused by mailproxy; Dovecot never sees the session. */
    @Test
    void loginBeforeStartTlsNeverReachesDovecot() throws IOException {
        String user = user("early");
        try (Socket s = Clients.plain(imap); LineClient c = new LineClient(s)) {
            assertTrue(c.readLine().startsWith("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED]"));
            c.send("a LOGIN " + user + " demo");
            assertTrue(c.readLine().startsWith("a NO [PRIVACYREQUIRED]"));
            c.send("b LOGOUT");
            c.readLine();
            String line = sessions.awaitClient(CLIENT_IP, s.getLocalPort(), LOG_WAIT);
            assertTrue(line.contains("refused before STARTTLS: LOGIN"), line);
            assertTrue(line.contains("/<NOSRV> "), "no server was contacted: " + line);
        }
        assertEquals(0, dovecot.countLog(Pattern.compile("user=<" + Pattern.quote(user) + ">")), dovecot.logTail(10));
    }

    /** Negative control: starttls-optional lets a client stay in plaintext, without the SSL TLV: Dovecot refuses its LOGIN. */
    @Test
    void optionalPlaintextLoginIsRefusedByDovecot() throws IOException {
        String user = user("plain");
        try (Socket s = Clients.plain(imapOptional); LineClient c = new LineClient(s)) {
            String greeting = c.readLine();
            assertTrue(greeting.contains("STARTTLS") && !greeting.contains("LOGINDISABLED"), greeting);
            c.send("a LOGIN " + user + " demo");
            String reply = c.readLine();
            while (reply.startsWith("* ")) {
                reply = c.readLine(); // Dovecot's untagged [ALERT] about plaintext
            }
            assertTrue(reply.startsWith("a NO") || reply.startsWith("a BAD"), reply);
            c.send("b LOGOUT");
        }
        assertEquals(0, dovecot.countLog(dovecot.version().login("imap", user)));
        // and the same frontend with STARTTLS logs in: the refusal is about plaintext, not the user
        String secured = user("upgraded");
        String out = openssl(imapOptional, "imap", "a LOGIN " + secured + " demo", "b LOGOUT");
        assertTrue(out.contains("\na OK "), out);
        dovecot.awaitLog(dovecot.version().securedLogin("imap", secured), LOG_WAIT);
    }

    /** {@code openssl s_client -starttls PROTO} from 127.0.0.2, sending {@code lines}; returns all it printed. */
    private static String openssl(int port, String protocol, String... lines) {
        List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-ign_eof",
                "-bind", CLIENT_IP + ":0", "-connect", "127.0.0.1:" + port, "-CAfile", cert.caFile().toString(),
                "-starttls", protocol));
        List<String> input = new ArrayList<>();
        for (String l : lines) {
            input.add(l);
        }
        ExternalClient.Result r = ExternalClient.run(dir, command, input, CLIENT_WAIT);
        return "\n" + r.output().replace("\r\n", "\n");
    }

    private static String user(String name) {
        return name + "-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    }
}
