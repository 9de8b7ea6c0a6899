package io.mailproxy.checks;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TcpAndTlsCheckTest extends CheckTestSupport {

    private static final int MAX_FILLERS = 64;

    @Test
    void tcpConnectPasses() throws Exception {
        try (FakeServer server = FakeServer.start(FakeServer.Conn::awaitClose)) {
            assertResult(CheckStatus.L4OK, 0, "", run(spec(CheckType.TCP, server.address())));
        }
    }

    @Test
    void refusedIsLayer4ConnectionProblem() throws Exception {
        InetSocketAddress closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = new InetSocketAddress(s.getInetAddress(), s.getLocalPort());
        }
        for (CheckType type : CheckType.values()) {
            assertResult(CheckStatus.L4CON, 0, "Connection refused", run(spec(type, closed)));
        }
    }

    /** A listener whose accept queue is full drops SYNs (Linux): the connect never completes. */
    @Test
    void connectNeverCompletingIsLayer4Timeout() throws Exception {
        List<Socket> fillers = new ArrayList<>();
        try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            InetSocketAddress address = new InetSocketAddress(full.getInetAddress(), full.getLocalPort());
            fill(address, fillers);
            assertResult(CheckStatus.L4TOUT, 0, "",
                    run(spec(CheckType.IMAP, address).withTimeout(SHORT_TIMEOUT)));
        } finally {
            for (Socket s : fillers) {
                s.close();
            }
        }
    }

    private static void fill(InetSocketAddress address, List<Socket> fillers) throws IOException {
        for (int i = 0; i < MAX_FILLERS; i++) {
            Socket s = new Socket();
            try {
                s.connect(address, 100);
                fillers.add(s);
            } catch (SocketTimeoutException queueFull) {
                s.close();
                return;
            }
        }
        throw new AssertionError("the accept queue never filled");
    }

    @Test
    void tlsImapPasses() throws Exception {
        try (FakeServer server = FakeServer.startTls(ImapCheckTest::goodImap)) {
            assertResult(CheckStatus.L7OK, 0, "", run(spec(CheckType.IMAP, server.address()).withTls(true)));
        }
    }

    @Test
    void tlsTcpPassesAtLayer6() throws Exception {
        try (FakeServer server = FakeServer.startTls(FakeServer.Conn::awaitClose)) {
            assertResult(CheckStatus.L6OK, 0, "", run(spec(CheckType.TCP, server.address()).withTls(true)));
        }
    }

    @Test
    void tlsToAPlaintextServerIsLayer6InvalidResponse() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.send("* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n");
            c.awaitClose();
        })) {
            assertResult(CheckStatus.L6RSP, 0, CheckHandler.SSL_HANDSHAKE_FAILURE,
                    run(spec(CheckType.IMAP, server.address()).withTls(true)));
        }
    }

    @Test
    void serverClosingDuringTheHandshakeIsLayer6InvalidResponse() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            // read the whole ClientHello record, so that our close is a FIN, not a reset
            byte[] header = c.readBytes(5);
            c.readBytes(ByteBuffer.wrap(header, 3, 2).getShort() & 0xFFFF);
        })) {
            assertResult(CheckStatus.L6RSP, 0, CheckHandler.SSL_CLOSED,
                    run(spec(CheckType.POP3, server.address()).withTls(true)));
        }
    }

    @Test
    void silentHandshakeIsLayer6Timeout() throws Exception {
        try (FakeServer server = FakeServer.start(FakeServer.Conn::awaitClose)) {
            assertResult(CheckStatus.L6TOUT, 0, "",
                    run(spec(CheckType.SMTP, server.address()).withTls(true).withTimeout(SHORT_TIMEOUT)));
        }
    }

    @Test
    void tlsGreetingTimeoutIsLayer7Timeout() throws Exception {
        try (FakeServer server = FakeServer.startTls(FakeServer.Conn::awaitClose)) {
            // The handshake must finish inside the timeout for the greeting to be what times out.
            assertResult(CheckStatus.L7TOUT, 0, "",
                    run(spec(CheckType.LMTP, server.address()).withTls(true).withTimeout(Duration.ofSeconds(3))));
        }
    }
}
