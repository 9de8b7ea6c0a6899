package io.mailproxy.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.log.LogCapture;
import io.mailproxy.log.Termination;
import io.mailproxy.relay.RelayHandler;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A session that ends while its client takes nothing of what is left for it: the close waits for
 * the flush only while the client makes progress, at most {@code timeout.client-fin} without any,
 * then closes without the rest. The client's socket is simulated: its writes stay pending.
 */
class ClosingTest {

    @TempDir
    Path dir;

    /** A client whose peer reads nothing: what is written stays in the channel's outbound buffer. */
    private static final class StuckClient extends EmbeddedChannel {
        boolean stuck = true;

        StuckClient() {
            super(false, false);
        }

        @Override
        protected SocketAddress remoteAddress0() {
            return new InetSocketAddress("192.0.2.10", 40000);
        }

        @Override
        protected void doWrite(ChannelOutboundBuffer in) throws Exception {
            if (!stuck) {
                super.doWrite(in);
            }
        }
    }

    /** What the channel still holds is released (an aborted channel is no longer registered). */
    private static void release(EmbeddedChannel ch) {
        if (ch.isRegistered()) {
            ch.finishAndReleaseAll();
        } else {
            ch.releaseInbound();
            ch.releaseOutbound();
        }
    }

    private SessionContext context() {
        return SessionFixtures.context(dir, """
                frontends { f { bind = ["127.0.0.1:10143"], backend = pool, timeout.client-fin = 1s } }
                backends { pool { servers = [ { name = s1, address = "127.0.0.1:20143" } ] } }
                """);
    }

    @Test
    void aClientThatTakesNothingOfWhatIsLeftIsClosedAfterClientFin() throws Exception {
        SessionContext context = context();
        StuckClient client = new StuckClient();
        try (LogCapture log = LogCapture.sessions()) {
            client.register();
            client.freezeTime();
            Session session = new Session(client, context);
            client.writeAndFlush(Unpooled.wrappedBuffer(new byte[100_000]));
            assertTrue(RelayHandler.pendingBytes(client) >= 100_000);
            session.finish(Termination.NORMAL, null, false);
            assertTrue(client.isOpen(), "the close waits for the flush");
            client.advanceTimeBy(999, TimeUnit.MILLISECONDS);
            client.runScheduledPendingTasks();
            assertTrue(client.isOpen(), "for timeout.client-fin");
            client.advanceTimeBy(1, TimeUnit.MILLISECONDS);
            client.runScheduledPendingTasks();
            assertFalse(client.isOpen(), "then it is closed without the rest");
            assertEquals(Session.Phase.ENDED, session.phase());
            String line = log.await(l -> l.startsWith("192.0.2.10:40000 "), Duration.ofSeconds(1));
            assertTrue(line.contains(" -- ") && line.contains("ok: closed with ") && line.contains(
                    "bytes the client did not take within timeout.client-fin"), line);
            assertEquals(0, context.processActive().get());
        } finally {
            release(client);
        }
    }

    /** Negative control: a client that takes what is left gets all of it, and the close follows. */
    @Test
    void aClientThatTakesWhatIsLeftGetsItAll() throws Exception {
        SessionContext context = context();
        StuckClient client = new StuckClient();
        try (LogCapture log = LogCapture.sessions()) {
            client.register();
            Session session = new Session(client, context);
            client.writeAndFlush(Unpooled.wrappedBuffer(new byte[100_000]));
            session.finish(Termination.NORMAL, null, false);
            assertTrue(client.isOpen());
            client.stuck = false;
            client.flush();
            client.runPendingTasks();
            assertFalse(client.isOpen(), "closed once the flush is done");
            String line = log.await(l -> l.startsWith("192.0.2.10:40000 "), Duration.ofSeconds(1));
            assertTrue(line.endsWith(" -- 1/1/1/0/0 0/0 0 ok"), line);
            assertEquals(Session.Phase.ENDED, session.phase());
        } finally {
            release(client);
        }
    }
}
