package io.mailproxy.it.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.MailProxy;
import io.mailproxy.backend.Backend;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code balance = leastconn} with 200 long-lived sessions over 4 backends, through mailproxy with
 * real connections: each backend holds 50 +/- 1. Then 20 sessions of one backend end (the server
 * closes them) and 20 new clients arrive: leastconn gives all of them to that backend, back to 50
 * each. The negative control runs the same with {@code roundrobin}, which spreads the 20 newcomers
 * evenly and leaves that backend short.
 */
class LeastConnSessionsTest {

    private static final int SERVERS = 4;
    private static final int SESSIONS = 200;
    private static final int ENDED = 20;
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private final List<FakeMailServer> servers = new ArrayList<>();
    private final List<Socket> clients = new ArrayList<>();
    private MailProxy proxy;
    private int port;

    @BeforeEach
    void startServers() throws IOException {
        for (int i = 1; i <= SERVERS; i++) {
            servers.add(new FakeMailServer("s" + i));
        }
        port = BalanceFixture.freePort();
    }

    @AfterEach
    void stop() throws IOException {
        for (Socket c : clients) {
            c.close();
        }
        if (proxy != null) {
            proxy.close();
        }
        servers.forEach(FakeMailServer::close);
    }

    @Test
    void leastConnHoldsFiftyPerBackendAndRefillsTheOneThatLostSessions() throws Exception {
        proxy = BalanceFixture.proxy(dir, port, "balance = leastconn", servers);
        open(SESSIONS);
        assertOpen(SESSIONS);
        for (FakeMailServer s : servers) {
            assertEquals(50, s.open(), 1, counts());
        }
        endSessionsOnFirstServer();
        open(ENDED);
        assertOpen(SESSIONS);
        for (FakeMailServer s : servers) {
            assertEquals(50, s.open(), 1, counts());
        }
    }

    /** Negative control: round robin ignores the sessions held, so s1 stays short after the refill. */
    @Test
    void roundRobinDoesNotRefillTheBackendThatLostSessions() throws Exception {
        proxy = BalanceFixture.proxy(dir, port, "balance = roundrobin", servers);
        open(SESSIONS);
        assertOpen(SESSIONS);
        endSessionsOnFirstServer();
        open(ENDED);
        assertOpen(SESSIONS);
        // 30 left + 5 of the 20 newcomers.
        assertEquals(35, servers.get(0).open(), 1, counts());
    }

    /** s1 closes 20 of its connections; mailproxy must have ended those sessions before the refill. */
    private void endSessionsOnFirstServer() throws InterruptedException {
        FakeMailServer s1 = servers.get(0);
        int before = s1.open();
        assertEquals(ENDED, s1.closeSome(ENDED));
        Backend pool = proxy.backends().get("pool");
        assertTrue(BalanceFixture.await(() -> pool.server("s1").activeSessions() == before - ENDED, WAIT),
                "mailproxy still counts " + pool.server("s1").activeSessions() + " sessions on s1");
    }

    /** Opens {@code n} client sessions from 8 threads at once, each reading its server's greeting. */
    private void open(int n) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Socket>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                futures.add(pool.submit(() -> {
                    StringBuilder greeting = new StringBuilder();
                    Socket s = BalanceFixture.connect(port, greeting);
                    assertTrue(greeting.toString().matches("\\* OK s[1-4]"), greeting.toString());
                    return s;
                }));
            }
            for (Future<Socket> f : futures) {
                clients.add(f.get(30, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private void assertOpen(int total) throws InterruptedException {
        assertTrue(BalanceFixture.await(() -> servers.stream().mapToInt(FakeMailServer::open).sum() == total, WAIT),
                counts());
    }

    private String counts() {
        StringBuilder b = new StringBuilder("open per server:");
        for (FakeMailServer s : servers) {
            b.append(' ').append(s.open());
        }
        return b.toString();
    }
}
