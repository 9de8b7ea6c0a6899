package io.mailproxy.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.config.AcceptProxySettings;
import io.mailproxy.config.Cidr;
import io.mailproxy.log.Termination;
import io.mailproxy.proxyprotocol.ProxyHeader;
import io.mailproxy.proxyprotocol.ProxyHeaderEncoder;
import io.mailproxy.proxyprotocol.ProxyProtocolDecoder;
import io.mailproxy.session.InboundAddresses;
import io.mailproxy.session.Session;
import io.mailproxy.session.SessionContext;
import io.mailproxy.session.SessionFixtures;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The accept-proxy handlers ({@link TrustedPeerFilter}, the decoder, {@link AcceptProxyHandler}) as
 * {@link Frontend} installs them, on an {@link EmbeddedChannel} with real socket addresses.
 */
class AcceptProxyPipelineTest {

    private static final InetSocketAddress BALANCER = new InetSocketAddress("10.0.0.7", 40000);
    private static final InetSocketAddress LOCAL = new InetSocketAddress("10.0.0.1", 10993);
    private static final AcceptProxySettings SETTINGS = new AcceptProxySettings(
            List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("2001:db8::/32")), Duration.ofSeconds(3), 4096, true);

    /** One context for every connection: what the session needs of a frontend and backend. */
    private static final SessionContext CONTEXT;

    static {
        try {
            CONTEXT = SessionFixtures.context(java.nio.file.Files.createTempDirectory("accept-proxy"), """
                    frontends { f { bind = ["127.0.0.1:10993"], backend = pool } }
                    backends { pool { servers = [ { name = dc1, address = "127.0.0.1:20143" } ] } }
                    """);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * An EmbeddedChannel whose addresses are real ones, with a session and the accept-proxy handlers
     * as {@link Frontend} installs them; registered only once the fields are set.
     */
    private static final class Socket extends EmbeddedChannel {
        private final InetSocketAddress remote;
        final Session session;

        Socket(InetSocketAddress remote, Events events) throws Exception {
            super(false, false);
            this.remote = remote;
            this.session = new Session(this, CONTEXT);
            events.session = session;
            pipeline().addLast(new TrustedPeerFilter(SETTINGS, session),
                    new ProxyProtocolDecoder(SETTINGS.maxHeaderSize()),
                    new AcceptProxyHandler(session, (p, s, a) -> {
                        s.headerReceived(a);
                        events.accepted(p, a);
                    }));
            register();
            session.expectHeader(SETTINGS.timeout());
        }

        @Override
        protected SocketAddress remoteAddress0() {
            return remote;
        }

        @Override
        protected SocketAddress localAddress0() {
            return LOCAL;
        }
    }

    private record Refusal(InetSocketAddress peer, Termination reason, String detail) {
    }

    /** Records outcomes; on a header it adds a handler that keeps whatever bytes follow. */
    private static final class Events {
        Session session;
        InboundAddresses accepted;
        final StringBuilder after = new StringBuilder();

        void accepted(ChannelPipeline pipeline, InboundAddresses addresses) {
            accepted = addresses;
            pipeline.addLast("session", new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    ByteBuf b = (ByteBuf) msg;
                    after.append(b.toString(StandardCharsets.US_ASCII));
                    b.release();
                }
            });
        }

        /** The session's ending, once it has ended without a header. */
        List<Refusal> refused() {
            return session.termination() == null ? List.of()
                    : List.of(new Refusal(session.clientAddress(), session.termination(), session.detail()));
        }
    }

    private static ByteBuf bytes(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    @Test
    void untrustedPeerIsClosedBeforeAnyByteIsReadOrWritten() throws Exception {
        Events events = new Events();
        Socket ch = new Socket(new InetSocketAddress("192.0.2.9", 5555), events);
        assertFalse(ch.isOpen());
        assertNull(ch.readOutbound());
        assertEquals(List.of(new Refusal(new InetSocketAddress("192.0.2.9", 5555), Termination.UNTRUSTED_PEER,
                "192.0.2.9 is not in accept-proxy.trusted-networks")), events.refused());
        // Nothing further is reported for the same connection, even after the header timeout.
        ch.advanceTimeBy(10, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        assertEquals(1, events.refused().size());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void trustedIpv4MappedPeerPasses() throws Exception {
        Events events = new Events();
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, 10, 9, 8, 7};
        Socket ch = new Socket(new InetSocketAddress(java.net.Inet6Address.getByAddress(null, mapped, null), 6000), events);
        assertTrue(ch.isOpen());
        assertNull(ch.pipeline().get(TrustedPeerFilter.class));
        assertTrue(events.refused().isEmpty());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void validV1HeaderGivesTheClientAndDestinationAndPassesTheRest() throws Exception {
        Events events = new Events();
        Socket ch = new Socket(BALANCER, events);
        ch.writeInbound(bytes("PROXY TCP4 203.0.113.5 198.51.100.1 51000 993\r\na LOGIN"));
        assertEquals(new InetSocketAddress("203.0.113.5", 51000), events.accepted.client());
        assertEquals(new InetSocketAddress("198.51.100.1", 993), events.accepted.destination());
        assertEquals("a LOGIN", events.after.toString());
        assertNull(ch.pipeline().get(AcceptProxyHandler.class));
        assertNull(ch.pipeline().get(ProxyProtocolDecoder.class));
        // The header timer was cancelled: nothing happens at the timeout.
        ch.advanceTimeBy(10, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        assertTrue(ch.isOpen());
        assertTrue(events.refused().isEmpty());
        assertNull(ch.readOutbound());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void validV2HeaderSplitIntoSingleBytes() throws Exception {
        Events events = new Events();
        Socket ch = new Socket(BALANCER, events);
        ByteBuf h = ProxyHeaderEncoder.encodeV2(ProxyHeader.proxy(new InetSocketAddress("2001:db8::5", 4000),
                new InetSocketAddress("2001:db8::1", 143)), ByteBufAllocator.DEFAULT, true);
        while (h.isReadable()) {
            assertNull(events.accepted);
            ch.writeInbound(h.readRetainedSlice(1));
        }
        h.release();
        assertEquals(new InetSocketAddress("2001:db8::5", 4000), events.accepted.client());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void localHeaderUsesTheSocketAddresses() throws Exception {
        Events events = new Events();
        Socket ch = new Socket(BALANCER, events);
        ch.writeInbound(ProxyHeaderEncoder.encodeV2(ProxyHeader.local(), ByteBufAllocator.DEFAULT, false));
        assertEquals(BALANCER, events.accepted.client());
        assertEquals(LOCAL, events.accepted.destination());
        assertTrue(ch.isOpen());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void v1UnknownUsesTheSocketAddresses() throws Exception {
        Events events = new Events();
        Socket ch = new Socket(BALANCER, events);
        ch.writeInbound(bytes("PROXY UNKNOWN\r\n"));
        assertEquals(BALANCER, events.accepted.client());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void headerTimeoutClosesWithPrxTimeout() throws Exception {
        Events events = new Events();
        Socket ch = new Socket(BALANCER, events);
        ch.writeInbound(bytes("PROXY TCP4 203.0.113.5"));
        ch.advanceTimeBy(2999, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        // Negative control: just before the timeout the connection is still waiting.
        assertTrue(ch.isOpen());
        ch.advanceTimeBy(1, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertFalse(ch.isOpen());
        assertEquals(List.of(new Refusal(BALANCER, Termination.PROXY_TIMEOUT,
                "PRX_TIMEOUT: no complete PROXY header within 3000ms")), events.refused());
        assertNull(events.accepted);
        assertNull(ch.readOutbound());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void malformedHeaderClosesWithItsCode() throws Exception {
        Events events = new Events();
        Socket ch = new Socket(BALANCER, events);
        ch.writeInbound(bytes("PROXY TCP4 203.0.113.05 198.51.100.1 51000 993\r\n"));
        assertFalse(ch.isOpen());
        assertEquals(1, events.refused().size(), events.refused().toString());
        assertEquals(Termination.PROXY_INVALID, events.refused().get(0).reason());
        assertTrue(events.refused().get(0).detail().startsWith("PRX_BAD_ADDR: "), events.refused().get(0).detail());
        assertNull(events.accepted);
        assertNull(ch.readOutbound());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void mailCommandsWithoutHeaderAreRefusedAsNotAHeader() throws Exception {
        Events events = new Events();
        Socket ch = new Socket(BALANCER, events);
        ch.writeInbound(bytes("a LOGIN alice secret\r\n"));
        assertFalse(ch.isOpen());
        assertEquals(Termination.PROXY_INVALID, events.refused().get(0).reason());
        assertTrue(events.refused().get(0).detail().startsWith("PRX_NOT_HDR: "), events.refused().get(0).detail());
        assertEquals(1, events.refused().size());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void closeWithoutAByteIsAQuietProbe() throws Exception {
        Events events = new Events();
        Socket ch = new Socket(BALANCER, events);
        ch.close();
        ch.runPendingTasks();
        assertEquals(1, events.refused().size(), events.refused().toString());
        assertEquals(Termination.PROXY_EMPTY, events.refused().get(0).reason());
        assertTrue(events.refused().get(0).detail().startsWith("PRX_EMPTY: "));
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void closeInTheMiddleOfTheHeaderIsTruncated() throws Exception {
        Events events = new Events();
        Socket ch = new Socket(BALANCER, events);
        ch.writeInbound(bytes("PROXY TCP4 "));
        ch.close();
        ch.runPendingTasks();
        assertEquals(List.of(Termination.PROXY_TRUNCATED), events.refused().stream().map(Refusal::reason).toList());
        assertFalse(ch.finishAndReleaseAll());
    }
}
