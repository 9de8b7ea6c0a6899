package io.mailproxy.backend;

import io.mailproxy.Transport;
import io.mailproxy.log.Termination;
import io.mailproxy.relay.Reasons;
import io.mailproxy.relay.RelayHandler;
import io.mailproxy.relay.Session;
import io.mailproxy.relay.Side;
import io.mailproxy.stick.StickTable;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GenericFutureListener;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * Connects a session to a server of its backend: picks with the balancer among the servers with a
 * free connection slot, connects on the client's event loop, and on failure retries, up to
 * {@code retries} more times. The PROXY header is the first thing written on the new connection.
 *
 * <p>When every usable server is at its {@code max-connections}, the session waits in the
 * backend's {@link BackendQueue} for up to {@code timeout.queue}; a full queue or an expired wait
 * refuses it ({@link Termination#QUEUE_FULL}, {@link Termination#QUEUE_TIMEOUT}).
 *
 * <p>With a stick table ({@code stick on src}): the first attempt goes to the client's stored server
 * when it is UP, without asking the balancer (waiting for a slot there if it is full). Its retries go
 * to that same server, as in HAProxy, after a turn-around of min(connect timeout, 1s) unless the
 * attempt timed out; with {@code redispatch}, the last retry (or any once it is DOWN) is balanced
 * instead. A balanced session retries on servers it has not tried yet. Once a connection succeeds,
 * its server is stored for the client, so the entry follows the server that took the session.
 */
public final class BackendConnector {

    private static final Logger LOG = Logger.getLogger(BackendConnector.class.getName());

    /** HAProxy's turn-around before retrying the same server: at most one second. */
    private static final long MAX_TURN_AROUND_MILLIS = 1000;

    private final Transport transport;
    private final WriteBufferWaterMark waterMark;

    public BackendConnector(Transport transport, WriteBufferWaterMark waterMark) {
        this.transport = transport;
        this.waterMark = waterMark;
    }

    /**
     * Starts connecting. {@code header} makes the PROXY header (or null) for each attempt;
     * {@code onConnected} runs on the event loop with the connected channel, after the header was
     * written; {@code onRefused} runs on the event loop with why no server took the session:
     * {@link Termination#NO_SERVER} with the last attempt's error when every attempt failed or no
     * server is usable, {@link Termination#QUEUE_FULL} or {@link Termination#QUEUE_TIMEOUT}.
     */
    public void connect(Session session, Supplier<ByteBuf> header, Consumer<Channel> onConnected,
                        BiConsumer<Termination, String> onRefused) {
        new Attempts(session, header, onConnected, onRefused).next(null, false);
    }

    private final class Attempts {
        private final Session session;
        private final Supplier<ByteBuf> header;
        private final Consumer<Channel> onConnected;
        private final BiConsumer<Termination, String> onRefused;
        private final Set<Server> tried = new HashSet<>();
        private int attempts;
        /** The server the stick table sent this session to, or null when it was balanced. */
        private Server sticky;

        Attempts(Session session, Supplier<ByteBuf> header, Consumer<Channel> onConnected,
                 BiConsumer<Termination, String> onRefused) {
            this.session = session;
            this.header = header;
            this.onConnected = onConnected;
            this.onRefused = onRefused;
        }

        /** The next attempt after {@code lastError} (null before the first); {@code timedOut}: it timed out. */
        void next(String lastError, boolean timedOut) {
            Backend backend = session.backend();
            if (!session.client().isActive()) {
                refuseNoServer(lastError);
                return;
            }
            int retries = backend.settings().retries();
            Server target;
            long delay = 0;
            if (attempts == 0) {
                sticky = stuckServer(backend);
                target = sticky;
            } else if (attempts > retries) {
                refuseNoServer(lastError);
                return;
            } else if (sticky == null || backend.settings().redispatch() && (attempts == retries || !sticky.isUp())) {
                target = null;
            } else {
                target = sticky;
                delay = timedOut ? 0 : Math.min(backend.settings().connectTimeout().toMillis(), MAX_TURN_AROUND_MILLIS);
            }
            if (target != null) {
                if (target.tryAcquire()) {
                    connect(target, delay);
                } else {
                    enqueue(target, lastError);
                }
                return;
            }
            Server s = backend.pickFree(session.clientAddress(), tried);
            if (s != null) {
                connect(s, 0);
            } else if (backend.anyUsable(tried)) {
                enqueue(null, lastError);
            } else {
                refuseNoServer(lastError);
            }
        }

        private void refuseNoServer(String lastError) {
            onRefused.accept(Termination.NO_SERVER, lastError != null ? lastError : "no server of "
                    + session.backend().name() + " is usable (every server is DOWN, in maintenance or of weight 0)");
        }

        /** Waits in the backend's queue for a slot of {@code target} (null: of any server). */
        private void enqueue(Server target, String lastError) {
            Backend backend = session.backend();
            Channel client = session.client();
            EventLoop loop = client.eventLoop();
            BackendQueue queue = backend.queue();
            ScheduledFuture<?>[] timer = new ScheduledFuture<?>[1];
            @SuppressWarnings("unchecked")
            GenericFutureListener<Future<Void>>[] onClose = new GenericFutureListener[1];
            BackendQueue.Waiter w = new BackendQueue.Waiter(target, session.clientAddress(), tried,
                    (waiter, server) -> loop.execute(() -> {
                        if (timer[0] != null) {
                            timer[0].cancel(false);
                        }
                        client.closeFuture().removeListener(onClose[0]);
                        session.dequeued();
                        if (!client.isActive()) {
                            server.release();
                            return;
                        }
                        RelayHandler.setReading(client, false);
                        connect(server, 0);
                    }));
            String of = target != null ? target.qualifiedName() : backend.name();
            if (queue.offer(w) == BackendQueue.Admission.FULL) {
                onRefused.accept(Termination.QUEUE_FULL, "every slot is taken and the queue of " + of + " is full"
                        + (target != null ? " (max-queue " + target.maxQueue() + ")" : ""));
                return;
            }
            session.queued(w.serverAhead(), w.backendAhead());
            // Read the client while it waits, so that its leaving (FIN or RST) frees its place at
            // once; mail clients send nothing before the greeting, and the frontend bounds what
            // it keeps meanwhile.
            RelayHandler.setReading(client, true);
            long timeout = backend.settings().queueTimeout().toMillis();
            timer[0] = loop.schedule(() -> {
                if (queue.remove(w)) {
                    client.closeFuture().removeListener(onClose[0]);
                    session.dequeued();
                    onRefused.accept(Termination.QUEUE_TIMEOUT, "no slot on " + of + " within " + timeout + "ms");
                }
            }, timeout, TimeUnit.MILLISECONDS);
            onClose[0] = f -> {
                if (queue.remove(w)) {
                    timer[0].cancel(false);
                    session.dequeued();
                }
            };
            client.closeFuture().addListener(onClose[0]);
        }

        /** Connects to {@code server}, whose slot this session holds, after {@code delayMillis}. */
        private void connect(Server server, long delayMillis) {
            if (delayMillis <= 0) {
                attempt(server);
                return;
            }
            session.client().eventLoop().schedule(() -> {
                if (!session.client().isActive()) {
                    server.release();
                    session.end(Termination.CLIENT_GONE_BEFORE_CONNECT, null);
                    return;
                }
                attempt(server);
            }, delayMillis, TimeUnit.MILLISECONDS);
        }

        private void attempt(Server server) {
            Backend backend = session.backend();
            tried.add(server);
            session.connecting(server, attempts > 0);
            attempts++;
            Channel client = session.client();
            Bootstrap b = new Bootstrap()
                    .group(client.eventLoop())
                    .channel(transport.socketChannel())
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) backend.settings().connectTimeout().toMillis())
                    .option(ChannelOption.AUTO_READ, false)
                    .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.SO_KEEPALIVE, true)
                    .option(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark)
                    .handler(new RelayHandler(session, Side.SERVER));
            ChannelFuture f = b.connect(server.address());
            f.addListener(done -> connectDone(f, server));
        }
        /**
         * The server the stick table holds for this client, when it is UP in this backend (at any
         * weight, backup or not: HAProxy lets sticky traffic reach a weight-0 server), else null.
         */
        private Server stuckServer(Backend backend) {
            StickTable table = backend.stickTable();
            InetAddress client = clientIp();
            if (table == null || client == null) {
                return null;
            }
            String name = table.match(client);
            Server s = name == null ? null : backend.server(name);
            return s != null && s.isUp() ? s : null;
        }

        /** stick store: the server that took the session is the client's from now on. */
        private void stickStore(Server server) {
            StickTable table = session.backend().stickTable();
            InetAddress client = clientIp();
            if (table == null || client == null) {
                return;
            }
            String previous = table.store(client, server.name());
            if (previous != null) {
                LOG.fine(() -> "stick table " + table.name() + ": " + client.getHostAddress() + " moves from "
                        + previous + " to " + server.name() + " (" + server.qualifiedName() + ")");
            }
        }

        private InetAddress clientIp() {
            InetSocketAddress a = session.clientAddress();
            return a == null ? null : a.getAddress();
        }

        private void connectDone(ChannelFuture f, Server server) {
            if (!f.isSuccess()) {
                server.release();
                server.connectFailed();
                session.attemptFailed();
                String why = server.qualifiedName() + ": " + Reasons.of(f.cause());
                LOG.fine(() -> "connect to " + why);
                if (!session.client().isActive()) {
                    session.end(Termination.CLIENT_GONE_BEFORE_CONNECT, null);
                    return;
                }
                next(why, f.cause() instanceof ConnectTimeoutException);
                return;
            }
            Channel channel = f.channel();
            stickStore(server);
            session.connected(channel);
            if (!session.client().isActive()) {
                session.end(Termination.CLIENT_GONE_BEFORE_CONNECT, null);
                return;
            }
            ByteBuf h = header.get();
            if (h != null) {
                channel.write(h, channel.voidPromise());
            }
            onConnected.accept(channel);
        }
    }
}
