package io.mailproxy.backend;

import io.mailproxy.log.Reasons;
import io.mailproxy.log.Termination;
import io.mailproxy.stick.StickTable;
import io.mailproxy.tls.ClientTls;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * One session's way to a server of its backend: a connection slot (at once, or after waiting in
 * the backend's queue for up to {@code timeout.queue}), a TCP connection within
 * {@code timeout.connect} with the PROXY header written first, and the server's greeting within
 * {@code timeout.server-greeting} (IMAP, POP3 and LMTP servers speak first: a server that accepts
 * and says nothing is as good as one that refuses). A failed attempt gives its slot back, is told
 * to the server's health ({@code observe layer4}), and is retried up to {@code retries} times.
 * With {@code tls-to-server}, the TLS handshake comes between the PROXY header (sent in plaintext,
 * as HAProxy does) and the greeting; a failed handshake is a failed attempt like a refused connect.
 *
 * <p>{@link #result()} completes once: with the {@link ServerConnection}, or with a
 * {@link ConnectFailure} naming the termination to log. {@link #cancel()} (the client left) gives
 * back whatever the dispatch holds at that moment: its place in the queue, its slot, its attempt.
 *
 * <p>Retries: a session the balancer placed retries on a server it has not tried yet, and once it
 * has tried every usable server, on those again after the turn-around (so a one-server backend
 * retries its server, as HAProxy does). A session its stick table sent to a server retries that
 * server after the turn-around, min(connect timeout, 1s), unless the attempt timed out; with
 * {@code redispatch}, its last retry (or any once the server is DOWN) is balanced instead. Once a
 * connection succeeds, its server is stored for the client, so the entry follows the server that
 * took the session.
 *
 * <p>Threading: confined to the client's event loop, where the server channel is registered too.
 */
public final class Dispatch {

    private static final Logger LOG = Logger.getLogger(Dispatch.class.getName());

    /** HAProxy's turn-around before retrying the same server: at most one second. */
    private static final long MAX_TURN_AROUND_MILLIS = 1000;

    /** Where a dispatch is. */
    public enum Stage {
        /** Waiting in the backend's queue for a slot. */
        QUEUED,
        /** Waiting out the turn-around before a retry. */
        TURNAROUND,
        /** The TCP connection is being established. */
        CONNECTING,
        /** Connected, the PROXY header sent (the TLS handshake under way), waiting for the server's first bytes. */
        GREETING,
        /** The result is in (or it was cancelled). */
        DONE
    }

    private final Backend backend;
    private final EventLoop loop;
    private final InetSocketAddress client;
    private final Supplier<ByteBuf> header;
    private final BackendConnector connector;
    private final Promise<ServerConnection> result;
    private final Set<Server> tried = new HashSet<>();
    private Stage stage = Stage.TURNAROUND;
    private int attempts;
    /** The server the stick table sent this session to, or null when it was balanced. */
    private Server sticky;
    private BackendQueue.Waiter waiter;
    private ScheduledFuture<?> timer;
    private Channel attempt;
    private BackendQueue.Slot slot;
    private Server lastServer;
    private String lastError;
    private Termination lastFailure;
    private long queuedAtNanos = -1;
    private long queueNanos;
    private int serverAhead;
    private int backendAhead;

    Dispatch(BackendConnector connector, Backend backend, EventLoop loop, InetSocketAddress client,
             Supplier<ByteBuf> header) {
        this.connector = connector;
        this.backend = backend;
        this.loop = loop;
        this.client = client;
        this.header = header;
        this.result = loop.newPromise();
    }

    void start() {
        next(false);
    }

    /** Completes once with the connection or a {@link ConnectFailure}; cancelled by {@link #cancel()}. */
    public Future<ServerConnection> result() {
        return result;
    }

    public Stage stage() {
        return stage;
    }

    /** Connection attempts after the first (HAProxy's %rc). */
    public int retries() {
        return Math.max(0, attempts - 1);
    }

    /** The server of the last attempt, or null when none was made. */
    public Server lastServer() {
        return lastServer;
    }

    /** Time spent in the backend's queue so far, in ms (HAProxy's %Tw). */
    public long queueMillis() {
        long now = queuedAtNanos >= 0 ? System.nanoTime() - queuedAtNanos : 0;
        return (queueNanos + now) / 1_000_000;
    }

    /** Sessions ahead in the server's queue when it last entered one (HAProxy's %sq). */
    public int serverAhead() {
        return serverAhead;
    }

    /** Sessions ahead in the backend's queue when it last entered it (HAProxy's %bq). */
    public int backendAhead() {
        return backendAhead;
    }

    /**
     * Stops, giving back what the dispatch holds: its place in the queue (a slot granted at the same
     * moment is given back on arrival), its slot, its connection attempt. The result is cancelled.
     */
    public void cancel() {
        if (stage == Stage.DONE) {
            return;
        }
        stage = Stage.DONE;
        cancelTimer();
        if (waiter != null) {
            backend.queue().cancel(waiter);
            leftQueue();
        }
        if (attempt != null) {
            attempt.close();
            attempt = null;
        }
        if (slot != null) {
            slot.release();
            slot = null;
        }
        result.cancel(false);
    }

    private void next(boolean timedOut) {
        BackendSettingsView s = new BackendSettingsView(backend);
        Server target;
        long delay = 0;
        if (attempts == 0) {
            sticky = stuckServer();
            target = sticky;
        } else if (attempts > s.retries()) {
            fail(lastFailure, lastError);
            return;
        } else if (sticky == null || s.redispatch() && (attempts == s.retries() || !sticky.isUp())) {
            target = null;
        } else {
            target = sticky;
            delay = timedOut ? 0 : s.turnAroundMillis();
        }
        if (delay > 0) {
            later(delay, () -> admit(target, false));
        } else {
            admit(target, false);
        }
    }

    /** Asks the queue for a slot; {@code again}: every usable server was tried and may be tried again. */
    private void admit(Server target, boolean again) {
        BackendQueue.Admission a = backend.queue().admit(target, client, target != null || again ? Set.of() : tried, loop);
        if (a instanceof BackendQueue.Granted g) {
            connect(g.slot());
        } else if (a instanceof BackendQueue.Queued q) {
            waitFor(q.waiter());
        } else {
            BackendQueue.Refused r = (BackendQueue.Refused) a;
            if (r.refusal() == BackendQueue.Refusal.QUEUE_FULL) {
                fail(Termination.QUEUE_FULL, r.detail());
            } else if (target == null && !again && !tried.isEmpty() && backend.queue().anyUsable(Set.of())) {
                // every usable server failed once: try them again, after the turn-around
                long delay = lastFailure == Termination.NO_SERVER ? new BackendSettingsView(backend).turnAroundMillis() : 0;
                later(delay, () -> admit(null, true));
            } else {
                fail(lastFailure != null ? lastFailure : Termination.NO_SERVER, lastError != null ? lastError
                        : "no server of " + backend.name() + " is usable (every server is DOWN or of weight 0)");
            }
        }
    }

    private void later(long delayMillis, Runnable step) {
        if (delayMillis <= 0) {
            step.run();
            return;
        }
        stage = Stage.TURNAROUND;
        timer = loop.schedule(() -> {
            timer = null;
            if (stage == Stage.TURNAROUND) {
                step.run();
            }
        }, delayMillis, TimeUnit.MILLISECONDS);
    }

    private void waitFor(BackendQueue.Waiter w) {
        stage = Stage.QUEUED;
        waiter = w;
        queuedAtNanos = System.nanoTime();
        serverAhead = w.serverAhead();
        backendAhead = w.backendAhead();
        Duration timeout = backend.settings().queueTimeout();
        timer = loop.schedule(() -> {
            timer = null;
            if (waiter == w && backend.queue().cancel(w)) {
                leftQueue();
                fail(Termination.QUEUE_TIMEOUT, "no slot on " + backend.name() + " within " + timeout.toMillis() + "ms");
            }
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        w.grant().addListener((Future<BackendQueue.Slot> f) -> granted(w, f));
    }

    private void granted(BackendQueue.Waiter w, Future<BackendQueue.Slot> f) {
        if (stage == Stage.DONE || waiter != w) {
            if (f.isSuccess()) {
                f.getNow().release();
            }
            return;
        }
        cancelTimer();
        leftQueue();
        if (f.isSuccess()) {
            connect(f.getNow());
        } else {
            fail(Termination.NO_SERVER, "no server of " + backend.name() + " is usable any more");
        }
    }

    private void leftQueue() {
        waiter = null;
        if (queuedAtNanos >= 0) {
            queueNanos += System.nanoTime() - queuedAtNanos;
            queuedAtNanos = -1;
        }
    }

    private void connect(BackendQueue.Slot granted) {
        Server server = granted.server();
        slot = granted;
        tried.add(server);
        lastServer = server;
        attempts++;
        stage = Stage.CONNECTING;
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(connector.socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) backend.settings().connectTimeout().toMillis())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, connector.waterMark())
                .handler(new Greeting());
        ChannelFuture f = b.connect(server.address());
        attempt = f.channel();
        f.addListener(done -> {
            try {
                connected(f);
            } catch (RuntimeException | Error e) {
                // never leave the attempt half done: its slot goes back and the next attempt follows
                if (stage == Stage.CONNECTING || stage == Stage.GREETING) {
                    attemptFailed("internal error: " + e, Termination.NO_SERVER);
                }
            }
        });
    }

    private void connected(ChannelFuture f) {
        if (stage != Stage.CONNECTING || f.channel() != attempt) {
            return;
        }
        if (!f.isSuccess()) {
            attemptFailed(Reasons.of(f.cause()), f.cause() instanceof ConnectTimeoutException
                    ? Termination.CONNECT_TIMEOUT : Termination.NO_SERVER);
            return;
        }
        ByteBuf h = header.get();
        if (h != null) {
            attempt.writeAndFlush(h, attempt.voidPromise());
        }
        ClientTls tls = connector.clientTls(backend);
        if (tls != null) {
            // after the header, which has left in plaintext: from here on the channel speaks TLS
            SslHandler handler = tls.newHandler(attempt.alloc(), ((InetSocketAddress) attempt.remoteAddress()).getPort());
            handler.setHandshakeTimeoutMillis(backend.settings().connectTimeout().toMillis());
            attempt.pipeline().addFirst(SERVER_TLS, handler);
        }
        Duration greeting = backend.settings().greetingTimeout();
        if (greeting == null && tls == null) {
            succeed(null);
            return;
        }
        stage = Stage.GREETING;
        if (greeting != null) {
            timer = loop.schedule(() -> {
                timer = null;
                if (stage == Stage.GREETING) {
                    attemptFailed("no greeting within " + greeting.toMillis() + "ms", Termination.GREETING_TIMEOUT);
                }
            }, greeting.toMillis(), TimeUnit.MILLISECONDS);
        }
        attempt.read();
    }

    /** The name of the TLS handler on a server channel of a backend with {@code tls-to-server}. */
    public static final String SERVER_TLS = "server-tls";

    private void succeed(ByteBuf greeting) {
        cancelTimer();
        stage = Stage.DONE;
        Channel channel = attempt;
        BackendQueue.Slot s = slot;
        attempt = null;
        slot = null;
        Greeting handler = channel.pipeline().get(Greeting.class);
        if (handler != null) {
            channel.pipeline().remove(handler);
        }
        stickStore(s.server());
        s.server().connectSucceeded();
        if (!result.trySuccess(new ServerConnection(s.server(), s, channel, greeting))) {
            ReferenceCountUtil.release(greeting);
            channel.close();
            s.release();
        }
    }

    /** The attempt failed with {@code why}: its slot goes back, the server's health hears of it, and the next attempt follows. */
    private void attemptFailed(String why, Termination kind) {
        cancelTimer();
        Channel channel = attempt;
        attempt = null;
        if (channel != null) {
            channel.close();
        }
        BackendQueue.Slot s = slot;
        slot = null;
        s.release();
        Server server = s.server();
        server.connectFailed(why, kind != Termination.NO_SERVER);
        lastError = server.qualifiedName() + ": " + why;
        lastFailure = kind;
        LOG.fine(() -> "connect to " + lastError);
        next(kind != Termination.NO_SERVER);
    }

    private void fail(Termination termination, String detail) {
        cancelTimer();
        stage = Stage.DONE;
        result.tryFailure(new ConnectFailure(termination, detail));
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    /**
     * The server the stick table holds for this client, when it is UP in this backend (at any
     * weight, backup or not: HAProxy lets sticky traffic reach a weight-0 server), else null.
     */
    private Server stuckServer() {
        StickTable table = backend.stickTable();
        InetAddress ip = client == null ? null : client.getAddress();
        if (table == null || ip == null) {
            return null;
        }
        String name = table.match(ip);
        Server s = name == null ? null : backend.server(name);
        return s != null && s.isUp() ? s : null;
    }

    /** stick store: the server that took the session is the client's from now on. */
    private void stickStore(Server server) {
        StickTable table = backend.stickTable();
        InetAddress ip = client == null ? null : client.getAddress();
        if (table == null || ip == null) {
            return;
        }
        String previous = table.store(ip, server.name());
        if (previous != null) {
            LOG.fine(() -> "stick table " + table.name() + ": " + ip.getHostAddress() + " moves from "
                    + previous + " to " + server.name() + " (" + server.qualifiedName() + ")");
        }
    }

    /** The backend's retry settings, read once per decision. */
    private record BackendSettingsView(int retries, boolean redispatch, long turnAroundMillis) {
        BackendSettingsView(Backend b) {
            this(b.settings().retries(), b.settings().redispatch(),
                    Math.min(b.settings().connectTimeout().toMillis(), MAX_TURN_AROUND_MILLIS));
        }
    }

    /**
     * The attempt's only handler until it succeeds: hands the server's first bytes (its greeting) to
     * the dispatch; a close, a FIN or an error before them fails the attempt.
     */
    private final class Greeting extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (stage == Stage.GREETING && ctx.channel() == attempt && msg instanceof ByteBuf b && b.isReadable()) {
                succeed(b);
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (stage == Stage.GREETING && ctx.channel() == attempt) {
                // a read that brought nothing: ask again (reading is off until the session relays)
                ctx.read();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent && ctx.channel() == attempt && stage == Stage.GREETING) {
                attemptFailed("closed the connection before its greeting", Termination.NO_SERVER);
            } else if (evt instanceof SslHandshakeCompletionEvent done && ctx.channel() == attempt
                    && stage == Stage.GREETING) {
                if (!done.isSuccess()) {
                    attemptFailed("TLS handshake failed: " + Reasons.of(done.cause()), Termination.NO_SERVER);
                } else if (backend.settings().greetingTimeout() == null) {
                    succeed(null);
                }
            }
            ReferenceCountUtil.release(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (ctx.channel() == attempt && stage == Stage.GREETING) {
                attemptFailed("closed the connection before its greeting", Termination.NO_SERVER);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (ctx.channel() == attempt && stage == Stage.GREETING) {
                SslHandler tls = ctx.pipeline().get(SslHandler.class);
                boolean inHandshake = tls != null && !tls.handshakeFuture().isSuccess();
                attemptFailed((inHandshake ? "TLS handshake failed: " : "") + Reasons.of(cause), Termination.NO_SERVER);
            } else {
                ctx.close();
            }
        }
    }
}
