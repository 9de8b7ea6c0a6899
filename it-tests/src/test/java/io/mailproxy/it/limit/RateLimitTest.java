package io.mailproxy.it.limit;

import static io.mailproxy.it.limit.LimitFixture.await;
import static io.mailproxy.it.limit.LimitFixture.closedByPeer;
import static io.mailproxy.it.limit.LimitFixture.line;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code rate-limit-per-source}: the excess connections of one address read the protocol's error. */
class RateLimitTest {

    private static final Duration LONG = Duration.ofSeconds(5);

    @TempDir
    Path dir;

    private final LimitFixture fx = new LimitFixture();
    private LimitFixture.FakeServer server;

    @AfterEach
    void tearDown() throws Exception {
        fx.close();
    }

    /** Ports of an IMAP, a POP3, an LMTP and an accept-proxy IMAP frontend, all with {@code rate}. */
    private int[] start(String rate) throws Exception {
        server = fx.server("s1");
        int[] ports = {LimitFixture.freePort(), LimitFixture.freePort(), LimitFixture.freePort(), LimitFixture.freePort()};
        fx.proxy(dir, """
                defaults.frontend { backend = pool, rate-limit-per-source = %s }
                frontends.imap { bind = ["127.0.0.1:%d"] }
                frontends.pop3 { bind = ["127.0.0.1:%d"], protocol = pop3 }
                frontends.lmtp { bind = ["127.0.0.1:%d"], protocol = lmtp }
                frontends.lb { bind = ["127.0.0.1:%d"], accept-proxy { enabled = true, trusted-networks = ["127.0.0.0/8"] } }
                backends.pool { send-proxy = none, servers = [{ name = s1, address = "127.0.0.1:%d" }] }
                """.formatted(rate, ports[0], ports[1], ports[2], ports[3], server.port()));
        return ports;
    }

    private String session(String from, int port) throws Exception {
        try (Socket s = fx.connect(from, port)) {
            return line(s, LONG);
        }
    }

    @Test
    void theFourthWithinTheWindowReadsTheErrorAndAnotherAddressIsNotAffected() throws Exception {
        int port = start("\"3/10s\"")[0];
        for (int i = 0; i < 3; i++) {
            assertEquals("* OK s1", session("127.0.0.2", port), "connection " + (i + 1));
        }
        Socket fourth = fx.connect("127.0.0.2", port);
        assertEquals("* BYE [UNAVAILABLE] Server busy, try again later", line(fourth, LONG));
        assertTrue(closedByPeer(fourth, LONG));
        assertEquals("* OK s1", session("127.0.0.3", port), "another address has its own window");
        assertTrue(await(() -> fx.log.stream().anyMatch(l -> l.startsWith("127.0.0.2:") && l.contains(" PR ")
                && l.endsWith("rate-limited: more than 3/10s connections from 127.0.0.2")), LONG), fx.log.toString());
        assertEquals(4, server.accepted(), "the refused connection never reached a server");
    }

    /** Negative control: without the limit the fourth is greeted. */
    @Test
    void withoutTheLimitTheFourthIsGreeted() throws Exception {
        int port = start("null")[0];
        for (int i = 0; i < 4; i++) {
            assertEquals("* OK s1", session("127.0.0.2", port), "connection " + (i + 1));
        }
    }

    @Test
    void pop3AndLmtpClientsReadTheirProtocolsError() throws Exception {
        int[] ports = start("\"1/10s\"");
        assertEquals("* OK s1", session("127.0.0.4", ports[1]));
        assertEquals("-ERR [SYS/TEMP] Server busy, try again later", session("127.0.0.4", ports[1]));
        assertEquals("* OK s1", session("127.0.0.4", ports[2]));
        assertEquals("421 4.3.2 Server busy, try again later", session("127.0.0.4", ports[2]));
    }

    @Test
    void behindAProxyHeaderTheHeadersAddressIsCounted() throws Exception {
        int port = start("\"1/10s\"")[3];
        assertEquals("* OK s1", viaHeader("192.0.2.1", port));
        assertEquals("* OK s1", viaHeader("192.0.2.2", port), "same socket address, another client");
        assertEquals("* BYE [UNAVAILABLE] Server busy, try again later", viaHeader("192.0.2.1", port));
    }

    private String viaHeader(String client, int port) throws Exception {
        try (Socket s = fx.connect("127.0.0.5", port)) {
            OutputStream out = s.getOutputStream();
            out.write(("PROXY TCP4 " + client + " 127.0.0.1 5000 143\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return line(s, LONG);
        }
    }
}
