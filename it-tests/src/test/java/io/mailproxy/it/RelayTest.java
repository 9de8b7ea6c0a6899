package io.mailproxy.it;

import io.mailproxy.log.LogCapture;
import static io.mailproxy.it.Clients.CLIENT_IP;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The relay itself, without Dovecot: a plaintext frontend in front of a local echo server moves
 * bulk data both ways at once without losing or reordering a byte, stops reading from a client
 * whose data cannot be delivered (backpressure), and passes a client's FIN on while the answers
 * still flow back (half-close).
 */
class RelayTest {

    private static final Duration LOG_WAIT = Duration.ofSeconds(10);
    private static final long MIB = 1024 * 1024;
    /** The bulk test's volume each way. */
    private static final long BULK = 50 * MIB;
    /**
     * What the sender tries to push while nobody reads. Far more than every buffer on the way can
     * hold, so that a relay without backpressure is told apart.
     */
    private static final long STALL_TOTAL = 128 * MIB;
    /**
     * The most a sender may get out while its echo is not read: the client's and the echo server's
     * small socket buffers, mailproxy's two outbound buffers (256 KiB high mark each) and the
     * kernel's buffers of mailproxy's four sockets, which autotuning may grow to several MiB
     * (tcp_rmem max is 32 MiB here, but a socket nobody reads does not grow). Measured here: 11 MiB.
     */
    private static final long STALL_BOUND = 32 * MIB;

    @TempDir
    static Path dir;

    private static EchoServer echo;
    private static EchoServer echoStaysOpen;
    private static LogCapture sessions;
    private static ProxyFixture proxy;
    private static int relay;
    private static int relayToOpen;

    @BeforeAll
    static void start() throws IOException {
        echo = new EchoServer(EchoServer.AtEof.CLOSE);
        echoStaysOpen = new EchoServer(EchoServer.AtEof.STAY_OPEN);
        relay = FreePorts.next();
        relayToOpen = FreePorts.next();
        sessions = LogCapture.sessions();
        proxy = ProxyFixture.start(dir, "relay", """
                mailproxy {
                  frontends {
                    %s    %s  }
                  backends {
                    # the echo servers do not greet: relay from the connect
                    echo { send-proxy = none, timeout.server-greeting = null, servers = [%s] }
                    echo-open { send-proxy = none, timeout.server-greeting = null, servers = [%s] }
                  }
                }
                """.formatted(
                ProxyFixture.frontend("relay", relay, "imap", "echo", ""),
                ProxyFixture.frontend("relay-open", relayToOpen, "imap", "echo-open", ""),
                ProxyFixture.server("echo", echo.port()),
                ProxyFixture.server("echo", echoStaysOpen.port())));
    }

    @AfterAll
    static void stop() throws IOException {
        if (proxy != null) {
            proxy.close();
        }
        if (sessions != null) {
            sessions.close();
        }
        if (echo != null) {
            echo.close();
        }
        if (echoStaysOpen != null) {
            echoStaysOpen.close();
        }
    }

    /**
     * 50 MiB each way at once, the reader slower than the writer: what comes back has the sent
     * SHA-256, and the session log counts exactly 50 MiB each way.
     */
    @Test
    void bulkBothWaysWithASlowReaderKeepsEveryByte() throws Exception {
        int clientPort;
        try (Socket s = connect(relay)) {
            clientPort = s.getLocalPort();
            BulkSender sender = new BulkSender(s, BULK, 1);
            sender.start();
            BulkSender.Received back = BulkSender.drain(s.getInputStream(), 256 * 1024, Duration.ofMillis(2));
            assertTrue(sender.awaitDone(Duration.ofSeconds(30)));
            assertEquals(BULK, back.bytes());
            assertArrayEquals(sender.digest(), back.digest());
        }
        String line = sessions.awaitClient(CLIENT_IP, clientPort, LOG_WAIT);
        assertTrue(Pattern.compile(" \\[[^]]+] relay echo/echo 0/\\d+/\\d+ " + BULK
                + " -- \\d+/\\d+/\\d+/\\d+/0 0/0 " + BULK + " ok$").matcher(line).find(), line);
    }

    /**
     * A client that does not read its echo stops the sender after a bounded amount; once it reads
     * again, everything arrives intact.
     */
    @Test
    void aClientThatStopsReadingStopsTheSender() throws Exception {
        try (Socket s = connect(relay)) {
            BulkSender sender = new BulkSender(s, STALL_TOTAL, 2);
            sender.start();
            long stalledAt = sender.awaitStall(Duration.ofSeconds(1), Duration.ofSeconds(60));
            assertTrue(stalledAt >= 0, "the sender wrote all " + STALL_TOTAL + " bytes though nobody read");
            assertTrue(stalledAt < STALL_BOUND, "the sender got " + stalledAt + " bytes out while nobody read");
            BulkSender.Received back = BulkSender.drain(s.getInputStream(), 0, Duration.ZERO);
            assertTrue(sender.awaitDone(Duration.ofSeconds(30)));
            assertEquals(STALL_TOTAL, back.bytes());
            assertArrayEquals(sender.digest(), back.digest());
        }
    }

    /**
     * Negative control: through a relay that queues without bound, the same sender gets all its
     * data out while nobody reads, far past {@link #STALL_BOUND}.
     */
    @Test
    void withoutBackpressureTheSenderIsNeverStopped() throws Exception {
        try (UnboundedRelay unbounded = new UnboundedRelay(echo.port()); Socket s = connect(unbounded.port())) {
            BulkSender sender = new BulkSender(s, STALL_TOTAL, 3);
            sender.start();
            assertTrue(sender.awaitDone(Duration.ofSeconds(60)),
                    "stalled at " + sender.written() + " bytes though the relay has no backpressure");
            assertEquals(STALL_TOTAL, sender.written());
            BulkSender.Received back = BulkSender.drain(s.getInputStream(), 0, Duration.ZERO);
            assertArrayEquals(sender.digest(), back.digest());
        }
    }

    /**
     * The client writes, then shuts down its output before reading anything: the FIN reaches the
     * server, every byte still comes back, and then the connection closes (the server closed it).
     */
    @Test
    void halfCloseStillDeliversTheAnswerThenCloses() throws Exception {
        byte[] data = randomBytes(128 * 1024);
        int eofsBefore = echo.eofsSeen();
        int clientPort;
        try (Socket s = connect(relay)) {
            clientPort = s.getLocalPort();
            sendThenShutdownOutput(s, data);
            InputStream in = s.getInputStream();
            assertArrayEquals(data, in.readNBytes(data.length));
            assertEquals(-1, in.read(), "EOF after the echo");
        }
        assertEquals(eofsBefore + 1, echo.eofsSeen(), "the client's FIN reached the server");
        String line = sessions.awaitClient(CLIENT_IP, clientPort, LOG_WAIT);
        assertTrue(line.contains(" relay echo/echo ") && line.contains(" " + data.length + " -- ")
                && line.endsWith(" 0/0 " + data.length + " ok"), line);
    }

    /**
     * Negative control: when the server does not close after the client's FIN, the echo still
     * comes back but no EOF does: the EOF above came from the server, mailproxy did not close the
     * session on the client's FIN.
     */
    @Test
    void halfCloseWaitsForTheServerToClose() throws Exception {
        byte[] data = randomBytes(128 * 1024);
        int eofsBefore = echoStaysOpen.eofsSeen();
        try (Socket s = connect(relayToOpen)) {
            sendThenShutdownOutput(s, data);
            InputStream in = s.getInputStream();
            assertArrayEquals(data, in.readNBytes(data.length));
            s.setSoTimeout(1000);
            assertThrows(SocketTimeoutException.class, in::read, "the connection stays open");
            assertEquals(eofsBefore + 1, echoStaysOpen.eofsSeen(), "the client's FIN reached the server");
        }
    }

    /** Writes everything (it fits in the buffers on the way), then sends FIN before reading anything. */
    private static void sendThenShutdownOutput(Socket s, byte[] data) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(data);
        out.flush();
        s.shutdownOutput();
    }

    /** A client from 127.0.0.2 with the same small buffers as the echo server's. */
    private static Socket connect(int port) throws IOException {
        Socket s = new Socket();
        s.setReceiveBufferSize(EchoServer.SOCKET_BUFFER);
        s.setSendBufferSize(EchoServer.SOCKET_BUFFER);
        s.bind(new InetSocketAddress(Clients.clientAddress(), 0));
        s.connect(new InetSocketAddress(Clients.proxyAddress(), port), 5000);
        s.setSoTimeout(30_000);
        return s;
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new SplittableRandom().nextBytes(b);
        return b;
    }
}
