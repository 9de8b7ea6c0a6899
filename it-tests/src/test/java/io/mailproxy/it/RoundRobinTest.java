package io.mailproxy.it;

import io.mailproxy.log.LogCapture;
import static io.mailproxy.it.Clients.CLIENT_IP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.dovecot.Dovecot;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code balance = roundrobin} over two real Dovecot instances: consecutive IMAPS logins through
 * mailproxy alternate between them, as each Dovecot's own log shows.
 */
@Tag("dovecot")
class RoundRobinTest {

    private static final Duration LOG_WAIT = Duration.ofSeconds(10);
    private static final int LOGINS = 6;

    @TempDir
    static Path dir;

    private static Dovecot dc1;
    private static Dovecot dc2;
    private static SSLContext tls;
    private static LogCapture sessions;
    private static ProxyFixture proxy;
    private static int even;
    private static int dc2Drained;

    @BeforeAll
    static void start() {
        dc1 = Dovecot.start("it-rr1");
        dc2 = Dovecot.start("it-rr2");
        var cert = ProxyFixture.certificate(dir);
        tls = Clients.trusting(cert);
        even = FreePorts.next();
        dc2Drained = FreePorts.next();
        String t = ProxyFixture.implicitTls(cert);
        String servers = ProxyFixture.server("dc1", dc1.ports().imapHaproxy()) + ", "
                + ProxyFixture.server("dc2", dc2.ports().imapHaproxy());
        String drained = ProxyFixture.server("dc1", dc1.ports().imapHaproxy()) + ", "
                + "{ name = dc2, address = \"127.0.0.1:" + dc2.ports().imapHaproxy() + "\", weight = 0 }";
        sessions = LogCapture.sessions();
        proxy = ProxyFixture.start(dir, "roundrobin", """
                mailproxy {
                  frontends {
                    %s    %s  }
                  backends {
                    even { balance = roundrobin, servers = [%s] }
                    drained { balance = roundrobin, servers = [%s] }
                  }
                }
                """.formatted(
                ProxyFixture.frontend("even", even, "imap", "even", t),
                ProxyFixture.frontend("drained", dc2Drained, "imap", "drained", t),
                servers, drained));
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (sessions != null) {
            sessions.close();
        }
        // Stopping takes Dovecot ~2.5 s: stop both at once.
        Thread second = new Thread(() -> {
            if (dc2 != null) {
                dc2.close();
            }
        });
        second.start();
        if (dc1 != null) {
            dc1.close();
        }
        try {
            second.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Equal weights: six logins, three on each server, in Dovecot's log and in mailproxy's. */
    @Test
    void loginsAlternateBetweenTheServers() throws IOException {
        String prefix = loginAll(even);
        assertEquals(List.of(3L, 3L), loginCounts(prefix, 3, 3));
        assertEquals(3, sessionsOn("even/dc1"));
        assertEquals(3, sessionsOn("even/dc2"));
    }

    /** Negative control: with dc2 at weight 0 every login lands on dc1, and the count shows it. */
    @Test
    void aServerAtWeightZeroGetsNone() throws IOException {
        String prefix = loginAll(dc2Drained);
        assertEquals(List.of((long) LOGINS, 0L), loginCounts(prefix, LOGINS, 0));
        assertEquals(LOGINS, sessionsOn("drained/dc1"));
    }

    /**
     * Logs in {@link #LOGINS} times in turn, each session ended before the next starts, so the
     * balancer's order decides where each goes. Returns the user-name prefix of this run.
     */
    private static String loginAll(int port) throws IOException {
        String prefix = "rr" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
        for (int i = 0; i < LOGINS; i++) {
            try (LineClient c = new LineClient(Clients.tls(tls, port))) {
                assertTrue(c.readLine().startsWith("* OK"));
                List<String> login = c.imap("a", "LOGIN " + prefix + "-" + i + " demo");
                assertTrue(login.get(login.size() - 1).startsWith("a OK"), login.toString());
                c.imap("b", "LOGOUT");
                c.readToEnd();
                sessions.awaitClient(CLIENT_IP, c.localPort(), LOG_WAIT);
            }
        }
        return prefix;
    }

    /** Login lines of this run (by user prefix, from the client's address) in dc1's and dc2's logs. */
    private static List<Long> loginCounts(String prefix, long expectDc1, long expectDc2) {
        Pattern login = Pattern.compile(dc1.version().loginMatching("imap", prefix + "-\\d+").pattern()
                + "method=PLAIN, rip=" + Pattern.quote(CLIENT_IP) + ",");
        // Wait for what is expected, then count: a surplus line would show up in the count.
        dc1.awaitLogCount(login, expectDc1, LOG_WAIT);
        dc2.awaitLogCount(login, expectDc2, LOG_WAIT);
        return List.of(dc1.countLog(login), dc2.countLog(login));
    }

    private static long sessionsOn(String backendAndServer) {
        return sessions.lines().stream().filter(l -> l.contains(" " + backendAndServer + " ")).count();
    }
}
