package io.mailproxy.it;

import io.mailproxy.log.LogCapture;
import static io.mailproxy.it.Clients.CLIENT_IP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.dovecot.Dovecot;
import io.mailproxy.dovecot.DovecotPorts;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * When no server of a backend can be connected, each protocol's client reads that protocol's own
 * "try again later" reply from mailproxy, and the session is logged as {@code SC no-server}.
 *
 * <p>The failing backend has two servers on ports where nothing listens (refused at once), so
 * every retry is spent. The negative controls use the same frontends' settings in front of a
 * running Dovecot, whose greeting the client reads instead.
 */
@Tag("dovecot")
class NoServerTest {

    private static final Duration LOG_WAIT = Duration.ofSeconds(10);

    @TempDir
    static Path dir;

    private static Dovecot dovecot;
    private static SSLContext tls;
    private static LogCapture sessions;
    private static ProxyFixture proxy;
    /** Frontend ports by name: {@code imap-down}, {@code imap-up}, ... */
    private static final Map<String, Integer> PORTS = new HashMap<>();

    @BeforeAll
    static void start() {
        dovecot = Dovecot.start("it-noserver");
        var cert = ProxyFixture.certificate(dir);
        tls = Clients.trusting(cert);
        String t = ProxyFixture.implicitTls(cert);
        StringBuilder frontends = new StringBuilder();
        StringBuilder backends = new StringBuilder();
        String down = ProxyFixture.server("s1", FreePorts.closed()) + ", " + ProxyFixture.server("s2", FreePorts.closed());
        DovecotPorts dc = dovecot.ports();
        for (String protocol : new String[] {"imap", "pop3", "lmtp"}) {
            int up = dc.haproxy(protocol);
            for (String state : new String[] {"down", "up"}) {
                String name = protocol + "-" + state;
                int port = FreePorts.next();
                PORTS.put(name, port);
                frontends.append(ProxyFixture.frontend(name, port, protocol, name, t));
                backends.append(name).append(" { balance = roundrobin, servers = [")
                        .append(state.equals("down") ? down : ProxyFixture.server("dc1", up)).append("] }\n");
            }
        }
        sessions = LogCapture.sessions();
        proxy = ProxyFixture.start(dir, "noserver", "mailproxy {\n frontends {\n" + frontends
                + " }\n backends {\n" + backends + " }\n}\n");
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

    /** Both servers refuse: the protocol's reply, then the connection closes; logged SC no-server. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "imap, '* BYE [UNAVAILABLE] Service temporarily unavailable, try again later'",
        "pop3, '-ERR [SYS/TEMP] Service temporarily unavailable, try again later'",
        "lmtp, '421 4.3.0 Service temporarily unavailable, try again later'",
    })
    void noServerGivesTheProtocolsUnavailableReply(String protocol, String reply) throws IOException {
        int clientPort;
        try (LineClient c = new LineClient(Clients.tls(tls, PORTS.get(protocol + "-down")))) {
            clientPort = c.localPort();
            assertEquals(reply, c.readLine());
            assertEquals(0, c.readToEnd().length, "mailproxy closes after its reply");
        }
        String line = sessions.awaitClient(CLIENT_IP, clientPort, LOG_WAIT);
        // Two servers, retries = 3: each server is tried once, then again after the turn-around,
        // until the three retries are spent; which one is tried last depends on the balancer's state,
        // hence s[12]. The log names the server of the last attempt, as HAProxy does.
        assertTrue(Pattern.compile(" " + protocol + "-down~ " + protocol + "-down/s[12] 0/-1/\\d+ 0 SC "
                + "\\d+/\\d+/\\d+/0/3 0/0 0 no-server: " + protocol + "-down/s[12]: .*refused", Pattern.CASE_INSENSITIVE)
                .matcher(line).find(), line);
    }

    /** Negative control: with a running server behind the frontend, the client reads Dovecot's greeting. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "imap, '* OK '",
        "pop3, '+OK '",
        "lmtp, '220 '",
    })
    void aRunningServerGreets(String protocol, String greeting) throws IOException {
        int clientPort;
        try (LineClient c = new LineClient(Clients.tls(tls, PORTS.get(protocol + "-up")))) {
            clientPort = c.localPort();
            String line = c.readLine();
            assertTrue(line.startsWith(greeting), line);
            c.send(protocol.equals("imap") ? "a LOGOUT" : "QUIT");
            c.readToEnd();
        }
        String line = sessions.awaitClient(CLIENT_IP, clientPort, LOG_WAIT);
        assertTrue(line.contains(" " + protocol + "-up~ " + protocol + "-up/dc1 ") && line.matches(".* -- 1/1/1/1/0 0/0 \\d+ ok"),
                line);
    }
}
