package io.mailproxy.it.limit;

import static io.mailproxy.it.limit.LimitFixture.line;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code max-connections} of a frontend and of the process: over it a connection is not refused
 * but waits in the kernel's backlog (no greeting), and it is taken as soon as a session ends.
 */
class FrontendLimitTest {

    private static final Duration LONG = Duration.ofSeconds(5);
    private static final Duration SHORT = Duration.ofMillis(300);

    @TempDir
    Path dir;

    private final LimitFixture fx = new LimitFixture();

    @AfterEach
    void tearDown() throws Exception {
        fx.close();
    }

    private int[] start(String global, String frontendKeys) throws Exception {
        LimitFixture.FakeServer s1 = fx.server("s1");
        int a = LimitFixture.freePort();
        int b = LimitFixture.freePort();
        fx.proxy(dir, """
                %s
                frontends.a { bind = ["127.0.0.1:%d"], backend = pool %s }
                frontends.b { bind = ["127.0.0.1:%d"], backend = pool }
                backends.pool { send-proxy = none, servers = [{ name = s1, address = "127.0.0.1:%d" }] }
                """.formatted(global, a, frontendKeys, b, s1.port()));
        return new int[] {a, b};
    }

    @Test
    void theThirdOfTwoWaitsUntilASessionEnds() throws Exception {
        int port = start("", ", max-connections = 2")[0];
        Socket c1 = fx.connect("127.0.0.1", port);
        assertEquals("* OK s1", line(c1, LONG));
        Socket c2 = fx.connect("127.0.0.1", port);
        assertEquals("* OK s1", line(c2, LONG));
        Socket c3 = fx.connect("127.0.0.1", port); // the kernel completes the handshake: it is in the backlog
        assertNull(line(c3, SHORT), "not accepted while two sessions are open");
        c1.close();
        assertEquals("* OK s1", line(c3, LONG), "accepted once a session ended");
    }

    /** Negative control: without the limit the third is greeted at once. */
    @Test
    void withoutTheLimitTheThirdIsGreetedAtOnce() throws Exception {
        int port = start("", "")[0];
        for (int i = 0; i < 3; i++) {
            assertEquals("* OK s1", line(fx.connect("127.0.0.1", port), LONG));
        }
    }

    @Test
    void theProcessLimitCountsEveryFrontend() throws Exception {
        int[] ports = start("max-connections = 2", "");
        Socket a = fx.connect("127.0.0.1", ports[0]);
        assertEquals("* OK s1", line(a, LONG));
        Socket b = fx.connect("127.0.0.1", ports[1]);
        assertEquals("* OK s1", line(b, LONG));
        Socket c = fx.connect("127.0.0.1", ports[0]);
        Socket d = fx.connect("127.0.0.1", ports[1]);
        assertNull(line(c, SHORT), "frontend a waits: the process has 2");
        assertNull(line(d, SHORT), "frontend b waits too");
        b.close();
        String first = line(c, LONG);
        // one slot freed: exactly one of the two waiting is taken now
        Socket other = first != null ? d : c;
        if (first == null) {
            assertEquals("* OK s1", line(d, LONG));
        } else {
            assertEquals("* OK s1", first);
        }
        assertNull(line(other, SHORT), "only one slot freed");
        a.close();
        assertEquals("* OK s1", line(other, LONG));
    }
}
