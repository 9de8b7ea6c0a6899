package io.mailproxy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.timeout.IdleStateEvent;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link RelayHandler} between two embedded channels: bytes, flushes, backpressure, and the events
 * it reports to its session (which decides what they mean; see the session's own tests).
 */
class RelayHandlerTest {

    private static final InetSocketAddress CLIENT_ADDRESS = new InetSocketAddress("127.0.0.2", 51234);

    /** Records what the handlers report; the peers are the two embedded channels. */
    private final class Recorder implements RelaySession {
        final List<String> events = new ArrayList<>();
        long fromClient;
        long toClient;

        @Override
        public io.netty.channel.Channel peer(Side side) {
            return side == Side.CLIENT ? serverCh : client;
        }

        @Override
        public void relayed(Side side, ByteBuf buf) {
            if (side == Side.CLIENT) {
                fromClient += buf.readableBytes();
            } else {
                toClient += buf.readableBytes();
            }
        }

        @Override
        public void inputShutdown(Side side) {
            events.add("fin " + side);
        }

        @Override
        public void idle(Side side, IdleStateEvent event) {
            events.add("idle " + side + " " + event.state());
        }

        @Override
        public void closed(Side side) {
            events.add("closed " + side);
        }

        @Override
        public void failed(Side side, Throwable cause) {
            events.add("failed " + side + " " + cause.getMessage());
        }
    }

    private DuplexEmbeddedChannel client;
    private DuplexEmbeddedChannel serverCh;
    private final Recorder session = new Recorder();

    @BeforeEach
    void connect() {
        client = new DuplexEmbeddedChannel(CLIENT_ADDRESS);
        serverCh = new DuplexEmbeddedChannel(new InetSocketAddress("127.0.0.1", 20143));
        client.pipeline().addLast(new RelayHandler(session, Side.CLIENT));
        serverCh.pipeline().addLast(new RelayHandler(session, Side.SERVER));
    }

    @AfterEach
    void release() {
        client.close();
        serverCh.close();
        assertEquals("", readOutbound(client));
        assertEquals("", readOutbound(serverCh));
        assertFalse(client.finishAndReleaseAll());
        assertFalse(serverCh.finishAndReleaseAll());
    }

    @Test
    void bytesFlowBothWaysAndAreCounted() {
        client.writeInbound(ascii("a1 LOGIN alice secret\r\n"));
        assertEquals("a1 LOGIN alice secret\r\n", readOutbound(serverCh));
        serverCh.writeInbound(ascii("a1 OK\r\n"));
        assertEquals("a1 OK\r\n", readOutbound(client));
        assertNull(client.readOutbound());
        assertNull(serverCh.readOutbound());
        assertEquals(23, session.fromClient);
        assertEquals(7, session.toClient);
    }

    @Test
    void writesAreFlushedOncePerReadBatch() {
        client.pipeline().fireChannelRead(ascii("a"));
        client.pipeline().fireChannelRead(ascii("b"));
        // Written, not yet flushed: nothing reached the server's wire.
        assertNull(serverCh.readOutbound());
        client.pipeline().fireChannelReadComplete();
        assertEquals("ab", readOutbound(serverCh));
    }

    @Test
    void aClientThatCannotTakeMoreStopsReadingFromTheServer() {
        client.config().setWriteBufferWaterMark(new WriteBufferWaterMark(1024, 2048));
        assertTrue(serverCh.config().isAutoRead());

        // Negative control: a small answer stays under the high mark.
        serverCh.pipeline().fireChannelRead(Unpooled.wrappedBuffer(new byte[100]));
        assertTrue(client.isWritable());
        assertTrue(serverCh.config().isAutoRead());

        serverCh.pipeline().fireChannelRead(Unpooled.wrappedBuffer(new byte[4096]));
        assertFalse(client.isWritable());
        assertFalse(serverCh.config().isAutoRead(), "the server must stop being read while the client is full");
        assertTrue(RelayHandler.pendingBytes(client) >= 4196, "what waits, with Netty's per-write overhead");
        // The client side keeps reading: backpressure is per direction.
        assertTrue(client.config().isAutoRead());

        // The flush at the end of the read batch drains the client's buffer: reading resumes.
        serverCh.pipeline().fireChannelReadComplete();
        assertTrue(client.isWritable());
        assertTrue(serverCh.config().isAutoRead());
        assertEquals(0, RelayHandler.pendingBytes(client));
        ByteBuf small = client.readOutbound();
        ByteBuf big = client.readOutbound();
        assertEquals(4196, small.readableBytes() + big.readableBytes());
        small.release();
        big.release();
    }

    @Test
    void aServerThatCannotTakeMoreStopsReadingFromTheClient() {
        serverCh.config().setWriteBufferWaterMark(new WriteBufferWaterMark(1024, 2048));
        client.pipeline().fireChannelRead(Unpooled.wrappedBuffer(new byte[4096]));
        assertFalse(client.config().isAutoRead());
        assertTrue(serverCh.config().isAutoRead());
        client.pipeline().fireChannelReadComplete();
        assertTrue(client.config().isAutoRead());
        ByteBuf b = serverCh.readOutbound();
        assertEquals(4096, b.readableBytes());
        b.release();
    }

    @Test
    void readingIsNotTouchedOnAChannelWhoseInputIsShut() {
        serverCh.inputShutdown = true;
        RelayHandler.setReading(serverCh, false);
        assertTrue(serverCh.config().isAutoRead());
        serverCh.inputShutdown = false;
        RelayHandler.setReading(serverCh, false);
        assertFalse(serverCh.config().isAutoRead());
    }

    @Test
    void aFinIsPassedOnOnlyAfterWhatWasWrittenBeforeIt() {
        serverCh.pipeline().write(ascii("a LOGOUT\r\n"));
        RelayHandler.shutdownOutputAfterWrites(serverCh);
        assertTrue(serverCh.outputShutdown);
        assertEquals("a LOGOUT\r\n", readOutbound(serverCh));
    }

    @Test
    void eventsGoToTheSessionWithTheirSide() {
        client.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        serverCh.pipeline().fireUserEventTriggered(IdleStateEvent.WRITER_IDLE_STATE_EVENT);
        client.pipeline().fireExceptionCaught(new IOException("Connection reset by peer"));
        serverCh.close();
        assertEquals(List.of("fin CLIENT", "idle SERVER WRITER_IDLE", "failed CLIENT Connection reset by peer",
                "closed SERVER"), session.events);
    }

    @Test
    void bytesForAClosedPeerAreReleased() {
        serverCh.close();
        ByteBuf b = ascii("late");
        client.writeInbound(b);
        assertEquals(0, b.refCnt());
        assertEquals(0, session.fromClient);
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    private static String readOutbound(EmbeddedChannel ch) {
        StringBuilder b = new StringBuilder();
        ByteBuf buf;
        while ((buf = ch.readOutbound()) != null) {
            b.append(buf.toString(StandardCharsets.US_ASCII));
            buf.release();
        }
        return b.toString();
    }

    /**
     * An embedded channel that is a {@link DuplexChannel} with an address, as the TCP channels the
     * relay runs on; it records half-closes instead of doing them.
     */
    static final class DuplexEmbeddedChannel extends EmbeddedChannel implements DuplexChannel {
        private final InetSocketAddress remote;
        boolean inputShutdown;
        boolean outputShutdown;

        DuplexEmbeddedChannel(InetSocketAddress remote) {
            this.remote = remote;
        }

        @Override
        protected SocketAddress remoteAddress0() {
            return remote;
        }

        @Override
        public boolean isInputShutdown() {
            return inputShutdown;
        }

        @Override
        public ChannelFuture shutdownInput() {
            return shutdownInput(newPromise());
        }

        @Override
        public ChannelFuture shutdownInput(ChannelPromise promise) {
            inputShutdown = true;
            return promise.setSuccess();
        }

        @Override
        public boolean isOutputShutdown() {
            return outputShutdown;
        }

        @Override
        public ChannelFuture shutdownOutput() {
            return shutdownOutput(newPromise());
        }

        @Override
        public ChannelFuture shutdownOutput(ChannelPromise promise) {
            outputShutdown = true;
            return promise.setSuccess();
        }

        @Override
        public boolean isShutdown() {
            return inputShutdown && outputShutdown;
        }

        @Override
        public ChannelFuture shutdown() {
            return shutdown(newPromise());
        }

        @Override
        public ChannelFuture shutdown(ChannelPromise promise) {
            inputShutdown = true;
            outputShutdown = true;
            return promise.setSuccess();
        }
    }
}
