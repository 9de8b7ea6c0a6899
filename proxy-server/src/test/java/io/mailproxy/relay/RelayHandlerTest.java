package io.mailproxy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.backend.Backend;
import io.mailproxy.backend.Server;
import io.mailproxy.config.ConfigLoader;
import io.mailproxy.log.SessionLog;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link RelayHandler} and {@link Session} between two embedded channels: bytes, backpressure,
 * half-close and the reasons a session ends.
 */
class RelayHandlerTest {

    private static final InetSocketAddress CLIENT_ADDRESS = new InetSocketAddress("127.0.0.2", 51234);

    @TempDir
    Path dir;

    private final List<String> logged = new ArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            synchronized (logged) {
                logged.add(record.getMessage());
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    private Backend backend;
    private Server server;
    private DuplexEmbeddedChannel client;
    private DuplexEmbeddedChannel serverCh;
    private Session session;
    private final AtomicInteger processActive = new AtomicInteger();
    private final AtomicInteger frontendActive = new AtomicInteger();

    @BeforeEach
    void connect() throws Exception {
        // SessionLog.LOGGER, not Logger.getLogger(name): the log manager holds loggers weakly, so a
        // handler added to a logger nobody references yet may be collected with it.
        SessionLog.LOGGER.addHandler(capture);
        Path file = Files.writeString(dir.resolve("relay.conf"), """
                mailproxy {
                  frontends { imap { bind = ["127.0.0.1:10143"], backend = pool } }
                  backends { pool { send-proxy = none, servers = [ { name = dc1, address = "127.0.0.1:20143" } ] } }
                }
                """);
        backend = new Backend(ConfigLoader.load(file).backends().get("pool"));
        server = backend.servers().get(0);

        client = new DuplexEmbeddedChannel(CLIENT_ADDRESS);
        session = new Session(client, "imap", false, backend, processActive, frontendActive);
        server.acquire();
        session.connecting(server, false);
        serverCh = new DuplexEmbeddedChannel(new InetSocketAddress("127.0.0.1", 20143));
        session.connected(serverCh);
        client.pipeline().addLast(new RelayHandler(session, Side.CLIENT));
        serverCh.pipeline().addLast(new RelayHandler(session, Side.SERVER));
    }

    @AfterEach
    void release() {
        SessionLog.LOGGER.removeHandler(capture);
        client.close();
        serverCh.close();
        // A session that ended wrote the empty buffer it closes on flush; anything else left is a
        // byte a test did not look at.
        assertEquals("", readOutbound(client));
        assertEquals("", readOutbound(serverCh));
        assertFalse(client.finishAndReleaseAll());
        assertFalse(serverCh.finishAndReleaseAll());
    }

    @Test
    void bytesFlowBothWays() {
        client.writeInbound(ascii("a1 LOGIN alice secret\r\n"));
        assertEquals("a1 LOGIN alice secret\r\n", readOutbound(serverCh));
        serverCh.writeInbound(ascii("a1 OK\r\n"));
        assertEquals("a1 OK\r\n", readOutbound(client));
        assertNull(client.readOutbound());
        assertNull(serverCh.readOutbound());
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
        // The client side keeps reading: backpressure is per direction.
        assertTrue(client.config().isAutoRead());

        // The flush at the end of the read batch drains the client's buffer: reading resumes.
        serverCh.pipeline().fireChannelReadComplete();
        assertTrue(client.isWritable());
        assertTrue(serverCh.config().isAutoRead());
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
    void clientHalfCloseIsPassedToTheServerAndAnswersStillFlow() {
        client.writeInbound(ascii("QUIT\r\n"));
        client.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);

        assertTrue(serverCh.outputShutdown, "the client's FIN must reach the server");
        assertEquals("QUIT\r\n", readOutbound(serverCh));
        assertFalse(session.ended());
        assertTrue(client.isOpen());
        // The server's last words still reach the client.
        serverCh.writeInbound(ascii("+OK bye\r\n"));
        assertEquals("+OK bye\r\n", readOutbound(client));

        // The server closing after them ends the session normally.
        serverCh.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        assertTrue(session.ended());
        assertFalse(client.isOpen());
        assertFalse(serverCh.isOpen());
        assertEquals(1, logged.size(), logged.toString());
        assertTrue(logged.get(0).endsWith(" -- 1/1/1/1/0 0/0 ok"), logged.get(0));
    }

    @Test
    void serverHalfCloseEndsTheSession() {
        serverCh.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        // Negative control for the test above: the server's FIN is not passed on as a half-close.
        assertFalse(client.outputShutdown);
        assertTrue(session.ended());
        assertFalse(client.isOpen());
        assertFalse(serverCh.isOpen());
    }

    @Test
    void idleEventEndsTheSessionAsIdleTimeout() {
        client.writeInbound(ascii("a1 IDLE\r\n"));
        serverCh.writeInbound(ascii("+ idling\r\n"));
        assertEquals("a1 IDLE\r\n", readOutbound(serverCh));
        assertEquals("+ idling\r\n", readOutbound(client));

        client.pipeline().fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
        assertFalse(client.isOpen());
        assertFalse(serverCh.isOpen());
        assertEquals(1, logged.size(), logged.toString());
        String line = logged.get(0);
        assertTrue(line.startsWith("127.0.0.2:51234 ["), line);
        assertTrue(line.contains("] imap pool/dc1 0/"), line);
        // %B (to the client) then %U (from the client), then the termination state.
        assertTrue(line.matches(".* 10 9 cD 1/1/1/1/0 0/0 idle-timeout"), line);
    }

    @Test
    void clientErrorIsAClientAbortWithTheReason() {
        client.pipeline().fireExceptionCaught(new IOException("Connection reset by peer"));
        assertFalse(serverCh.isOpen());
        assertEquals(1, logged.size());
        assertTrue(logged.get(0).endsWith(" CD 1/1/1/1/0 0/0 client-abort: Connection reset by peer"), logged.get(0));
    }

    @Test
    void serverErrorIsAServerAbort() {
        serverCh.pipeline().fireExceptionCaught(new IOException("Connection reset by peer"));
        assertFalse(client.isOpen());
        assertEquals(1, logged.size());
        assertTrue(logged.get(0).endsWith(" SD 1/1/1/1/0 0/0 server-abort: Connection reset by peer"), logged.get(0));
    }

    @Test
    void countersReturnToZeroWhenTheSessionIsLogged() {
        assertEquals(1, processActive.get());
        assertEquals(1, frontendActive.get());
        assertEquals(1, backend.active().get());
        assertEquals(1, server.activeSessions());
        client.close();
        assertEquals(0, processActive.get());
        assertEquals(0, frontendActive.get());
        assertEquals(0, backend.active().get());
        assertEquals(0, server.activeSessions());
        // The first reason wins and the line is logged once, however many ends follow.
        session.end(io.mailproxy.log.Termination.SERVER_ABORT, "late");
        assertEquals(1, logged.size());
        assertTrue(logged.get(0).endsWith(" -- 1/1/1/1/0 0/0 ok"), logged.get(0));
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
