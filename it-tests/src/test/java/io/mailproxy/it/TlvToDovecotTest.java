package io.mailproxy.it;

import static io.mailproxy.it.Clients.CLIENT_IP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.dovecot.Dovecot;
import io.mailproxy.tls.GeneratedCertificate;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * mailproxy sends Dovecot only the TLVs it accepts, shown with {@code openssl s_client} through
 * mailproxy to real Dovecot (the run's target). Debian 13's Dovecot 2.4.1 drops every connection
 * whose PROXY header carries an ALPN TLV, and 2.4 any whose AUTHORITY is not a host name: a client
 * offering ALPN {@code imap}, or sending an SNI name that is no DNS name, must still log in. The
 * negative control is a backend that lists {@code alpn} in {@code proxy-v2-options}: the same client
 * is then refused by 2.4.1 (and logs in on 2.3, which ignores ALPN).
 */
@Tag("dovecot")
class TlvToDovecotTest {

    private static final Duration LOG_WAIT = Duration.ofSeconds(30);
    private static final Duration CLIENT_WAIT = Duration.ofSeconds(60);

    @TempDir
    static Path dir;

    private static Dovecot dovecot;
    private static GeneratedCertificate cert;
    private static ProxyFixture proxy;
    private static int imaps;
    private static int imapsWithAlpn;

    @BeforeAll
    static void start() {
        dovecot = Dovecot.start("it-tlv");
        cert = ProxyFixture.certificate(dir);
        imaps = FreePorts.next();
        imapsWithAlpn = FreePorts.next();
        String t = ProxyFixture.implicitTls(cert);
        String server = ProxyFixture.server("dc1", dovecot.ports().imapHaproxy());
        proxy = ProxyFixture.start(dir, "tlv", """
                mailproxy {
                  frontends {
                    %s    %s  }
                  backends {
                    imap { servers = [%s] }
                    imap-alpn { proxy-v2-options = [alpn], servers = [%s] }
                  }
                }
                """.formatted(ProxyFixture.frontend("imaps", imaps, "imap", "imap", t),
                ProxyFixture.frontend("imaps-alpn", imapsWithAlpn, "imap", "imap-alpn", t), server, server));
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (dovecot != null) {
            dovecot.close();
        }
    }

    /** ALPN {@code imap} negotiated with mailproxy; by default no ALPN TLV goes to Dovecot, and LOGIN succeeds. */
    @Test
    void aClientOfferingAlpnImapLogsIn() {
        String user = user("alpn");
        String out = login(imaps, user, "-alpn", "imap", "-servername", "localhost");
        assertTrue(out.contains("ALPN protocol: imap"), "mailproxy negotiated imap: " + out);
        assertTrue(out.contains("\na OK "), out);
        String line = dovecot.awaitLog(dovecot.version().securedLogin("imap", user), LOG_WAIT);
        assertTrue(line.contains(", rip=" + CLIENT_IP + ", "), line);
    }

    /**
     * Negative control: the same client through a backend that sends the ALPN TLV. Debian's 2.4.1
     * drops the connection (its error names a garbled protocol); 2.3, and 2.4.2 on, let it log in.
     */
    @Test
    void withTheAlpnOptionDebians241RefusesTheSameClient() {
        String user = user("alpnopt");
        long mismatches = dovecot.countLog(Pattern.compile("HAproxy application protocol mismatch"));
        String out = login(imapsWithAlpn, user, "-alpn", "imap", "-servername", "localhost");
        boolean refuses = dovecot.versionString().startsWith("2.4.1");
        assertEquals(!refuses, out.contains("\na OK "), dovecot.versionString() + ": " + out);
        if (refuses) {
            dovecot.awaitLogCount(Pattern.compile("imap-login: Error: HAproxy application protocol mismatch"),
                    mismatches + 1, LOG_WAIT);
            assertEquals(0, dovecot.countLog(dovecot.version().login("imap", user)));
        }
    }

    /** An SNI name with a character no host name has: mailproxy sends no AUTHORITY, and 2.4 lets the client in. */
    @Test
    void anSniNameThatIsNoHostNameStillLogsIn() {
        String user = user("sni");
        String out = login(imaps, user, "-servername", "bad!name.example");
        assertTrue(out.contains("\na OK "), out);
        assertEquals(0, dovecot.countLog(Pattern.compile("Invalid TLV")), dovecot.logTail(10));
        dovecot.awaitLog(dovecot.version().securedLogin("imap", user), LOG_WAIT);
    }

    /** {@code openssl s_client} from 127.0.0.2: LOGIN, then LOGOUT; returns all it printed. */
    private static String login(int port, String user, String... options) {
        List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-ign_eof",
                "-bind", CLIENT_IP + ":0", "-connect", "127.0.0.1:" + port, "-CAfile", cert.caFile().toString()));
        command.addAll(List.of(options));
        ExternalClient.Result r = ExternalClient.run(dir, command, List.of("a LOGIN " + user + " demo", "b LOGOUT"),
                CLIENT_WAIT);
        return "\n" + r.output().replace("\r\n", "\n");
    }

    private static String user(String name) {
        return name + "-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    }
}
