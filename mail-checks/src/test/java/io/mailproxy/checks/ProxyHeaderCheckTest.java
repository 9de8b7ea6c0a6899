package io.mailproxy.checks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBufUtil;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class ProxyHeaderCheckTest extends CheckTestSupport {

    /**
     * PROXY v2 LOCAL, 16 bytes:
     * 0D0A0D0A000D0A515549540A signature,
     * 20 version 2 / command LOCAL,
     * 00 family and transport UNSPEC,
     * 0000 no address block.
     */
    private static final byte[] V2_LOCAL = ByteBufUtil.decodeHexDump("0D0A0D0A000D0A515549540A" + "20" + "00" + "0000");

    /** Signature, 21 = version 2 / PROXY, 11 = TCP over IPv4, 000C = 12 bytes of addresses and ports. */
    private static final String V2_PROXY_TCP4_PREFIX = "0D0A0D0A000D0A515549540A" + "21" + "11" + "000C";

    @Test
    void localHeaderIsTheDefaultAndPrecedesTheConversation() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            assertArrayEquals(V2_LOCAL, c.readBytes(V2_LOCAL.length));
            ImapCheckTest.goodImap(c);
        })) {
            CheckSpec spec = CheckSpec.of(CheckType.IMAP, server.address()).withTimeout(TIMEOUT);
            assertEquals(CheckProxyHeader.LOCAL, spec.sendProxy());
            assertResult(CheckStatus.L7OK, 0, "", run(spec));
        }
    }

    @Test
    void v2HeaderCarriesTheCheckConnectionsOwnAddresses() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            byte[] header = c.readBytes(16 + 12);
            // seen from the server: the check's source is the peer, its destination this socket
            ByteBuffer expected = ByteBuffer.allocate(28)
                    .put(ByteBufUtil.decodeHexDump(V2_PROXY_TCP4_PREFIX))
                    .put(c.socket().getInetAddress().getAddress())
                    .put(c.socket().getLocalAddress().getAddress())
                    .putShort((short) c.socket().getPort())
                    .putShort((short) c.socket().getLocalPort());
            assertArrayEquals(expected.array(), header, () -> ByteBufUtil.hexDump(header));
            c.send("+OK ready\r\n");
            c.expectLine("CAPA");
            c.send("+OK\r\n.\r\n");
            c.expectLine("QUIT");
        })) {
            assertEquals(Inet4Address.class, InetAddress.getLoopbackAddress().getClass());
            CheckSpec spec = spec(CheckType.POP3, server.address()).withSendProxy(CheckProxyHeader.V2);
            assertResult(CheckStatus.L7OK, 0, "", run(spec));
        }
    }

    @Test
    void headerPrecedesTheTlsHandshake() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            assertArrayEquals(V2_LOCAL, c.readBytes(V2_LOCAL.length));
            ImapCheckTest.goodImap(c.startTls());
        })) {
            CheckSpec spec = spec(CheckType.IMAP, server.address()).withSendProxy(CheckProxyHeader.LOCAL).withTls(true);
            assertResult(CheckStatus.L7OK, 0, "", run(spec));
        }
    }

    @Test
    void tcpCheckSendsTheHeaderThenCloses() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            assertArrayEquals(V2_LOCAL, c.readBytes(V2_LOCAL.length));
            c.awaitClose();
        })) {
            CheckSpec spec = spec(CheckType.TCP, server.address()).withSendProxy(CheckProxyHeader.LOCAL);
            assertResult(CheckStatus.L4OK, 0, "", run(spec));
        }
    }

    @Test
    void noHeaderMeansTheFirstBytesAreTheCommand() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.send("220 ready\r\n");
            c.expectLine("EHLO localhost");
            c.send("250 ok\r\n");
            c.expectLine("QUIT");
        })) {
            assertResult(CheckStatus.L7OK, 250, "",
                    run(spec(CheckType.SMTP, server.address()).withSendProxy(CheckProxyHeader.NONE)));
        }
    }
}
