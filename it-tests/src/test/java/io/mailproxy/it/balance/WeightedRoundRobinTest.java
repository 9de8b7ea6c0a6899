package io.mailproxy.it.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.MailProxy;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
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
 * {@code balance = roundrobin} with weights 1:3: 1,000 real connections through mailproxy (four
 * clients at a time, each reading the greeting and closing) split within 2% of 25/75, counted by
 * the servers themselves. The negative control, weights 1:1, does not.
 */
class WeightedRoundRobinTest {

    private static final int CONNECTIONS = 1000;

    @TempDir
    Path dir;

    private final List<FakeMailServer> servers = new ArrayList<>();
    private MailProxy proxy;
    private int port;

    @BeforeEach
    void startServers() throws IOException {
        servers.add(new FakeMailServer("s1"));
        servers.add(new FakeMailServer("s2"));
        port = BalanceFixture.freePort();
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        servers.forEach(FakeMailServer::close);
    }

    @Test
    void weightsOneToThreeSplitAQuarterToThreeQuarters() throws Exception {
        proxy = BalanceFixture.proxy(dir, port, "balance = roundrobin", servers, 1, 3);
        connect(CONNECTIONS);
        double share = servers.get(0).accepted() / (double) CONNECTIONS;
        assertEquals(CONNECTIONS, servers.get(0).accepted() + servers.get(1).accepted());
        assertEquals(0.25, share, 0.02, split());
    }

    /** Negative control: equal weights, half each: far outside 25/75 +/- 2%. */
    @Test
    void equalWeightsSplitInHalves() throws Exception {
        proxy = BalanceFixture.proxy(dir, port, "balance = roundrobin", servers, 1, 1);
        connect(CONNECTIONS);
        double share = servers.get(0).accepted() / (double) CONNECTIONS;
        assertTrue(Math.abs(share - 0.25) > 0.02, split());
        assertEquals(0.5, share, 0.02, split());
    }

    private void connect(int n) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                futures.add(pool.submit(() -> {
                    StringBuilder greeting = new StringBuilder();
                    try (Socket s = BalanceFixture.connect(port, greeting)) {
                        assertTrue(greeting.toString().matches("\\* OK s[12]"), greeting.toString());
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private String split() {
        return "accepted: s1 " + servers.get(0).accepted() + ", s2 " + servers.get(1).accepted();
    }
}
