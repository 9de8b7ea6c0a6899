package io.mailproxy.it.limit;

import static io.mailproxy.it.limit.LimitFixture.await;
import static io.mailproxy.it.limit.LimitFixture.closedByPeer;
import static io.mailproxy.it.limit.LimitFixture.line;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.MailProxy;
import io.mailproxy.backend.Backend;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server's {@code max-connections} and {@code max-queue} and the backend's {@code timeout.queue},
 * through real sockets: sessions over the limit wait, are served as slots free, and are refused
 * with the IMAP error when the queue is full or their wait expires.
 */
class ServerQueueTest {

    private static final String BUSY = "* BYE [UNAVAILABLE] Server busy, try again later";
    private static final Duration LONG = Duration.ofSeconds(5);
    private static final Duration SHORT = Duration.ofMillis(150);

    @TempDir
    Path dir;

    private final LimitFixture fx = new LimitFixture();

    @AfterEach
    void tearDown() throws Exception {
        fx.close();
    }

    private record Setup(MailProxy proxy, int port, LimitFixture.FakeServer server) {
        Backend backend() {
            return proxy.backends().get("pool");
        }
    }

    private Setup setup(String serverKeys, String queueTimeout) throws Exception {
        LimitFixture.FakeServer s1 = fx.server("s1");
        int port = LimitFixture.freePort();
        MailProxy proxy = fx.proxy(dir, """
                frontends.imap { bind = ["127.0.0.1:%d"], backend = pool }
                backends.pool {
                  send-proxy = none, timeout.queue = %s
                  servers = [{ name = s1, address = "127.0.0.1:%d" %s }]
                }
                """.formatted(port, queueTimeout, s1.port(), serverKeys));
        return new Setup(proxy, port, s1);
    }

    private List<Socket> greeted(Setup s, int n) throws Exception {
        List<Socket> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Socket c = fx.connect("127.0.0.1", s.port);
            assertEquals("* OK s1", line(c, LONG), "session " + (list.size() + 1));
            list.add(c);
        }
        return list;
    }

    @Test
    void tenActiveFiveQueuedServedAsSlotsFreeAndTheSixteenthRefused() throws Exception {
        Setup s = setup(", max-connections = 10, max-queue = 5", "30s");
        List<Socket> active = greeted(s, 10);
        List<Socket> queued = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            queued.add(fx.connect("127.0.0.1", s.port));
            // one at a time: sessions on different event loops could otherwise enter in another order
            int n = i + 1;
            assertTrue(await(() -> s.backend().queue().size() == n, LONG), "queued: " + s.backend().queue().size());
        }
        for (Socket q : queued) {
            assertNull(line(q, SHORT), "a queued session is not greeted");
        }
        assertEquals(10, s.server.open(), "the server never saw more than 10");

        Socket sixteenth = fx.connect("127.0.0.1", s.port);
        assertEquals(BUSY, line(sixteenth, LONG));
        assertTrue(closedByPeer(sixteenth, LONG), "closed after the error");
        assertTrue(await(() -> fx.log.stream().anyMatch(l -> l.contains(" SQ ") && l.contains("queue-full: every slot is taken "
                + "and the queue of pool is full")), LONG), fx.log.toString());

        for (int i = 0; i < 3; i++) {
            active.remove(0).close();
        }
        for (int i = 0; i < 3; i++) {
            assertEquals("* OK s1", line(queued.get(i), LONG), "queued session " + (i + 1) + " got a freed slot, in order");
        }
        assertNull(line(queued.get(3), SHORT), "no slot for the 4th yet");
        active.remove(0).close();
        active.remove(0).close();
        assertEquals("* OK s1", line(queued.get(3), LONG));
        assertEquals("* OK s1", line(queued.get(4), LONG));
        assertEquals(0, s.backend().queue().size());
        assertEquals(10, s.server.open());

        for (Socket c : active) {
            c.close();
        }
        for (Socket c : queued) {
            c.close();
        }
        // The queued sessions' lines carry their wait (%Tw) and the sessions that were ahead (%bq).
        assertTrue(await(() -> waitedLines() == 5, LONG), fx.log.toString());
        assertTrue(fx.log.stream().anyMatch(l -> l.matches(".* 0/4 \\d+ ok")), "the 5th queued had 4 ahead: " + fx.log);
    }

    /** Lines of normally ended sessions that waited at least 100 ms in the queue. */
    private long waitedLines() {
        return fx.log.stream().filter(l -> l.contains(" -- ")).filter(l -> {
            String timers = l.split(" ")[4];
            return Long.parseLong(timers.substring(0, timers.indexOf('/'))) >= 100;
        }).count();
    }

    /** Negative control: without max-connections all 16 are greeted at once. */
    @Test
    void withoutALimitSixteenAreGreetedAtOnce() throws Exception {
        Setup s = setup("", "30s");
        greeted(s, 16);
        assertEquals(16, s.server.open());
        assertEquals(0, s.backend().queue().size());
    }

    @Test
    void aQueuedClientWhoseWaitExpiresReadsTheError() throws Exception {
        Setup s = setup(", max-connections = 1", "300ms");
        greeted(s, 1);
        Socket waiting = fx.connect("127.0.0.1", s.port);
        long start = System.nanoTime();
        assertEquals(BUSY, line(waiting, LONG));
        long waitedMillis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(waitedMillis >= 250, "refused only after the queue timeout: " + waitedMillis + "ms");
        assertTrue(closedByPeer(waiting, LONG));
        assertTrue(await(() -> fx.log.stream().anyMatch(l -> l.contains(" sQ ")
                && l.endsWith("queue-timeout: no slot on pool within 300ms")), LONG), fx.log.toString());
        assertEquals(0, s.backend().queue().size());
    }

    /** Negative control: the same wait ends in a greeting when a slot frees within the timeout. */
    @Test
    void aQueuedClientIsGreetedWhenASlotFreesInTime() throws Exception {
        Setup s = setup(", max-connections = 1", "5s");
        List<Socket> first = greeted(s, 1);
        Socket waiting = fx.connect("127.0.0.1", s.port);
        assertTrue(await(() -> s.backend().queue().size() == 1, LONG));
        first.get(0).close();
        assertEquals("* OK s1", line(waiting, LONG));
    }

    @Test
    void aClientLeavingTheQueueIsLoggedCqAndFreesItsPlace() throws Exception {
        Setup s = setup(", max-connections = 1, max-queue = 1", "30s");
        greeted(s, 1);
        Socket leaving = fx.connect("127.0.0.1", s.port);
        assertTrue(await(() -> s.backend().queue().size() == 1, LONG));
        leaving.close();
        assertTrue(await(() -> s.backend().queue().size() == 0, LONG), "its place in the queue is free");
        assertTrue(await(() -> fx.log.stream().anyMatch(l -> l.contains(" CQ ") && l.endsWith("client-gone-in-queue")), LONG),
                fx.log.toString());
        Socket next = fx.connect("127.0.0.1", s.port);
        assertTrue(await(() -> s.backend().queue().size() == 1, LONG), "max-queue 1 has room again");
        assertNull(line(next, SHORT));
    }
}
