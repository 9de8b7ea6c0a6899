package io.mailproxy.peers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.log.LogCapture;
import io.mailproxy.session.ProxyRunner;
import io.mailproxy.session.ScriptedServer;
import io.mailproxy.stick.StickTable;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.mailproxy.peersprotocol.PeerEncoder;
import io.mailproxy.peersprotocol.PeerMessage;
import io.mailproxy.peersprotocol.ServerKeyCache;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * mailproxy node {@code mpa} against a peer this test plays byte by byte from 127.0.0.2, the
 * address of its configured node {@code raw}: the handshake's status codes, updates both ways,
 * acknowledgements, heartbeats, and what garbage does (an error message, a close, a log line,
 * and a table that stays as it was).
 */
class RawPeerTest {

    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final byte[] KEY = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1, 10, 9, 0, 1};

    @TempDir
    Path dir;

    private ScriptedServer s1;
    private ScriptedServer s2;
    private ProxyRunner mpa;
    private int peerPort;
    private LogCapture log;

    @BeforeEach
    void start() throws IOException {
        s1 = new ScriptedServer(s -> ScriptedServer.write(s, "* OK s1\r\n"));
        s2 = new ScriptedServer(s -> ScriptedServer.write(s, "* OK s2\r\n"));
        peerPort = ProxyRunner.freePort();
        int rawPort = ProxyRunner.freePort();
        log = LogCapture.attach(Peers.class.getName());
        mpa = ProxyRunner.start(dir, """
                frontends { imap { bind = ["127.0.0.1:%%PORT%%"], protocol = imap, backend = imap } }
                stick-tables { users { size = 1k, expire = 30m, peers = true } }
                backends { imap {
                  send-proxy = none, stick-table = users
                  servers = [{ name = s1, address = "127.0.0.1:%d" }, { name = s2, address = "127.0.0.1:%d" }]
                } }
                peers {
                  local-name = mpa, bind = "127.0.0.1:%d", resync-timeout = 0s
                  nodes = [{ name = raw, address = "127.0.0.2:%d" }]
                }
                """.formatted(s1.port(), s2.port(), peerPort, rawPort).replace("%%PORT%%", "%PORT%"));
    }

    @AfterEach
    void stop() throws IOException {
        mpa.close();
        log.close();
        s1.close();
        s2.close();
    }

    @Test
    void aConnectionFromAnotherAddressIsClosedBeforeAnythingIsRead() throws Exception {
        try (Socket s = connect("127.0.0.3")) {
            s.getOutputStream().write("HAProxyS 2.1\nmpa\nraw 1 1\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals(-1, s.getInputStream().read(), "closed without a status");
        }
        log.await(l -> l.contains("peer connection from 127.0.0.3:") && l.contains("refused: untrusted-peer"), WAIT);
        // Negative control: the node's own address gets an answer.
        try (Socket s = handshake()) {
            assertNotNull(s);
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "HAProxyS 2.1\\nmpa\\nraw 1 1\\n|200",
            "HAProxyS 2.0\\nmpa\\nraw 1 1\\n|200",
            "HAProxyS 3.0\\nmpa\\nraw 1 1\\n|502",
            "HAProxyX 2.1\\nmpa\\nraw 1 1\\n|501",
            "HAProxyS 2.1\\nmpz\\nraw 1 1\\n|503",
            "HAProxyS 2.1\\nmpa\\nstranger 1 1\\n|504",
            "HAProxyS 2.1\\nmpa\\nraw\\n|501"})
    void theHandshakeIsAnsweredAsHaproxyAnswersIt(String hello, String status) throws Exception {
        try (Socket s = connect("127.0.0.2")) {
            s.getOutputStream().write(hello.replace("\\n", "\n").getBytes(StandardCharsets.US_ASCII));
            assertEquals(status + "\n", new String(readAtLeast(s, 4), StandardCharsets.US_ASCII));
            if (!status.equals("200")) {
                assertEquals(-1, s.getInputStream().read(), "closed after a refusal");
            }
        }
        if (!status.equals("200")) {
            log.await(l -> l.startsWith("peer connection (inbound, 127.0.0.2:") && l.contains("hello-refused"), WAIT);
        }
    }

    @Test
    void anUpdateIsLearnedAndAcknowledged() throws Exception {
        try (Socket s = handshake()) {
            ByteBuf out = Unpooled.buffer();
            PeerEncoder.definition(out, PeerMessage.TableDefinition.ipv6Servers(7, "users", 1_800_000));
            PeerEncoder.update(out, PeerMessage.TableDefinition.ipv6Servers(7, "users", 1_800_000), 41, true, 60_000, KEY, 2,
                    "s2", new ServerKeyCache());
            send(s, out);
            assertTrue(ProxyRunner.await(() -> peek("10.9.0.1") != null, WAIT));
            assertEquals("s2", peek("10.9.0.1").server());
            assertTrue(peek("10.9.0.1").remainingMillis() <= 60_000, "the life it was sent with");
            // The acknowledgement names the sender's table id and update id: 0a 84 05 07 00000029.
            assertEquals("0a84050700000029", hex(readAtLeast(s, 8)));
        }
    }

    @Test
    void aLocalStoreIsPushedWithTheTableDefinition() throws Exception {
        try (Socket s = handshake()) {
            PeerNodes.serverFor(mpa, "127.0.0.7");
            String h = hex(readAtLeast(s, 53));
            // DEFINE id 1 "users" IPv6 16, server_id + server_key, expire 30m; then a timed UPDATE
            // with id 1, the remaining life (at most 30m), ::ffff:127.0.0.7, server_id 1, server_key "s1".
            assertTrue(h.matches("0a821101057573657273" + "0510f1f1fe00f0e5ed05"
                    + "0a851e" + "00000001" + "001b[0-7]\\p{XDigit}{3}" + "00000000000000000000ffff7f000007" + "01" + "0401027331"), h);
        }
    }

    @Test
    void garbageAfterTheHandshakeIsAnsweredWithAnErrorAndClosed() throws Exception {
        PeerNodes.table(mpa).store(InetAddress.getByName("10.8.0.1"), "s1");
        int before = PeerNodes.table(mpa).count();
        try (Socket s = handshake()) {
            readAtLeast(s, 1); // what mpa pushes of its table
            s.getOutputStream().write(new byte[] {(byte) 0xFF, 0x00});
            byte[] rest = readToEnd(s);
            assertTrue(hex(rest).endsWith("0100"), "the protocol error message, then the close: " + hex(rest));
        }
        log.await(l -> l.startsWith("peer raw (inbound") && l.contains("protocol-error") && l.contains("PEER_RESERVED_CLASS"), WAIT);
        assertEquals(before, PeerNodes.table(mpa).count());
        assertTrue(PeerNodes.serverFor(mpa, "127.0.0.8").matches("s[12]"), "mpa still serves clients");
    }

    @Test
    void anOversizedMessageIsAnsweredWithTheSizeLimitError() throws Exception {
        try (Socket s = handshake()) {
            ByteBuf out = Unpooled.buffer();
            out.writeByte(10).writeByte(0x80);
            io.mailproxy.peersprotocol.VarInt.write(out, 100_000);
            send(s, out);
            assertTrue(hex(readToEnd(s)).endsWith("0101"));
        }
        log.await(l -> l.contains("PEER_MSG_TOO_LONG"), WAIT);
    }

    /** A silent peer gets heartbeats, and is dropped after 5 s of silence. */
    @Test
    void aSilentPeerIsSentHeartbeatsThenDropped() throws Exception {
        try (Socket s = handshake()) {
            s.setSoTimeout(10_000);
            assertEquals("0004", hex(readAtLeast(s, 2)), "a heartbeat after 3 s without traffic");
            readToEnd(s);
        }
        log.await(l -> l.startsWith("peer raw (inbound") && l.contains("peer-timeout"), WAIT);
        assertTrue(mpa.proxy.peers().figures().get(0).heartbeatTimeouts() == 1);
    }

    private StickTable.Entry peek(String ip) {
        try {
            return PeerNodes.entry(mpa, ip);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private Socket connect(String from) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(from, 0));
        s.connect(new InetSocketAddress("127.0.0.1", peerPort), 5000);
        s.setSoTimeout(10_000);
        return s;
    }

    private Socket handshake() throws IOException {
        Socket s = connect("127.0.0.2");
        s.getOutputStream().write("HAProxyS 2.1\nmpa\nraw 1 1\n".getBytes(StandardCharsets.US_ASCII));
        assertArrayEquals("200\n".getBytes(StandardCharsets.US_ASCII), readAtLeast(s, 4));
        return s;
    }

    private static void send(Socket s, ByteBuf out) throws IOException {
        byte[] bytes = ByteBufUtil.getBytes(out);
        out.release();
        s.getOutputStream().write(bytes);
        s.getOutputStream().flush();
    }

    /** Reads at least {@code n} bytes (all that came by then, up to 64k). */
    private static byte[] readAtLeast(Socket s, int n) throws IOException {
        InputStream in = s.getInputStream();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[65536];
        while (got.size() < n) {
            int r = in.read(buf, 0, n - got.size());
            if (r < 0) {
                break;
            }
            got.write(buf, 0, r);
        }
        return got.toByteArray();
    }

    private static byte[] readToEnd(Socket s) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        try {
            for (int r; (r = s.getInputStream().read(buf)) >= 0; ) {
                got.write(buf, 0, r);
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("not closed; got " + hex(got.toByteArray()), e);
        }
        return got.toByteArray();
    }

    private static String hex(byte[] b) {
        return ByteBufUtil.hexDump(b);
    }
}
