package io.mailproxy.peers;

import io.mailproxy.config.ConfigurationException;
import io.mailproxy.config.PeersSettings;
import io.mailproxy.log.Reasons;
import io.mailproxy.peersprotocol.PeerDecoder;
import io.mailproxy.peersprotocol.StatusCode;
import io.mailproxy.stick.StickTable;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Promise;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * The running {@code peers} section: this node's listener, a connection with each other node, and
 * the synced stick tables they share (HAProxy's {@code struct peers} and its sync task).
 *
 * <p>Threading: the section has an event loop of its own, which carries every peer connection and
 * owns every field below that is not final or atomic: a resync of a large table, or a slow peer,
 * never delays a session's event loop. The session loops only touch the tables, whose local
 * updates wake this loop through {@link #wake}, coalesced: one wake-up however many updates.
 *
 * <p>Connections: each node connects to every other (1 s connect timeout, HAProxy's), and accepts
 * connections only from the other nodes' addresses; a peer keeps one connection, the one accepted
 * last (when two nodes connect to each other at once, each keeps the other's, then one gives way
 * after a random 50 to 2050 ms, as HAProxy does). A failed attempt is retried after 5 s.
 *
 * <p>Resync: a node that starts asks one connected peer for the whole tables and waits (see
 * {@link #awaitResync}) until that peer answers FINISHED; a peer that answers PARTIAL (it is not
 * up to date either) is not asked again, and once every node answered so, or {@code resync-timeout}
 * has passed, the node is up to date with what there is.
 */
public final class Peers implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Peers.class.getName());

    /** HAProxy's {@code timeout connect} of peers (1 s). */
    private static final int CONNECT_TIMEOUT_MILLIS = 1000;
    /** HAProxy's {@code PEER_RECONNECT_TIMEOUT}: a failed attempt is retried after this. */
    private static final long RETRY_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** How often the section looks for peers to connect to. */
    private static final long TICK_MILLIS = 100;
    /** The connections' buffer bounds: past the high mark no more updates are written until it drains. */
    private static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(256 * 1024, 1024 * 1024);

    private enum Resync { WAITING, ASSIGNED, DONE }

    private final PeersSettings settings;
    private final List<SyncedTable> tables = new ArrayList<>();
    private final List<PeerNode> nodes = new ArrayList<>();
    private final EventLoopGroup group;
    private final EventLoop loop;
    private final Class<? extends ServerChannel> serverChannel;
    private final Class<? extends SocketChannel> socketChannel;
    private final PeerTls tls;
    private final InetAddress source;
    private final AtomicBoolean wakePending = new AtomicBoolean();
    private final Promise<String> resynced;
    private final long started = System.nanoTime();
    private final long lastChange = System.currentTimeMillis();
    private Channel listener;
    private Resync resync = Resync.WAITING;
    private boolean resyncTimedOut;
    private boolean resyncFinished;
    private boolean resyncPartial;
    private long ticks;
    private volatile boolean closed;

    private Peers(PeersSettings settings, List<StickTable> synced, IoHandlerFactory io,
                  Class<? extends ServerChannel> serverChannel, Class<? extends SocketChannel> socketChannel, PeerTls tls) {
        this.settings = settings;
        for (StickTable t : synced) {
            tables.add(new SyncedTable(t, tables.size() + 1));
        }
        for (PeersSettings.Node n : settings.nodes()) {
            nodes.add(new PeerNode(n, tables));
        }
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("peers", true), io);
        this.loop = group.next();
        this.serverChannel = serverChannel;
        this.socketChannel = socketChannel;
        this.tls = tls;
        InetAddress bindHost = settings.bind().address().resolve().getAddress();
        this.source = bindHost.isAnyLocalAddress() ? null : bindHost;
        this.resynced = loop.newPromise();
    }

    /**
     * Listens on {@code settings.bind}, connects to the other nodes and starts the resync of
     * {@code synced} (each given a table id in this order).
     *
     * @throws ConfigurationException when the address cannot be bound or the TLS files cannot be used
     */
    public static Peers start(PeersSettings settings, List<StickTable> synced, IoHandlerFactory io,
                              Class<? extends ServerChannel> serverChannel, Class<? extends SocketChannel> socketChannel,
                              SslProvider provider) throws ConfigurationException {
        Peers peers = new Peers(settings, synced, io, serverChannel, socketChannel, PeerTls.of(settings.tls(), provider));
        try {
            peers.listen();
        } catch (ConfigurationException | RuntimeException e) {
            peers.close();
            throw e;
        }
        for (SyncedTable t : peers.tables) {
            t.table().listener(peers::wake);
        }
        peers.loop.execute(peers::begin);
        return peers;
    }

    private void listen() throws ConfigurationException {
        ServerBootstrap b = new ServerBootstrap()
                .group(loop, loop)
                .channel(serverChannel)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        accept(ch);
                    }
                });
        ChannelFuture bound = b.bind(settings.bind().address().resolve()).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            throw new ConfigurationException(List.of(settings.bind().problem(
                    "cannot listen on " + settings.bind().address() + " for peers: " + Reasons.of(bound.cause()))));
        }
        listener = bound.channel();
        LOG.info(() -> "peers: " + localName() + " listening on " + settings.bind().address() + (tls != null ? " (TLS)" : "")
                + ", nodes " + nodes.stream().map(n -> n.name() + " " + n.settings.address()).toList()
                + ", tables " + tables.stream().map(SyncedTable::name).toList());
    }

    /** On the loop: the resync deadline, and the tick that connects to the nodes. */
    private void begin() {
        long timeout = settings.resyncTimeout().toMillis();
        if (nodes.isEmpty() || timeout == 0) {
            resyncDone(nodes.isEmpty() ? "no other node is configured" : "resync-timeout is 0s");
        } else {
            loop.schedule(() -> {
                if (resync != Resync.DONE) {
                    resyncTimedOut = true;
                    resyncDone("no peer taught this node within resync-timeout (" + settings.resyncTimeout().toMillis()
                            + " ms)");
                }
            }, timeout, TimeUnit.MILLISECONDS);
        }
        loop.scheduleWithFixedDelay(this::tick, 0, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void tick() {
        ticks++;
        if (closed) {
            return;
        }
        long now = System.nanoTime();
        for (PeerNode n : nodes) {
            if (n.session == null && !n.connecting && now - n.reconnectAt >= 0) {
                connect(n);
            }
        }
    }

    // ---- connections ----

    private void accept(SocketChannel ch) {
        InetAddress from = ch.remoteAddress().getAddress();
        if (closed || nodes.stream().noneMatch(n -> sameHost(n.address.getAddress(), from))) {
            LOG.warning(() -> "peer connection from " + from.getHostAddress() + ":" + ch.remoteAddress().getPort()
                    + " refused: " + PeerEnd.UNTRUSTED.code() + ", " + PeerEnd.UNTRUSTED.sentence());
            ch.close();
            return;
        }
        pipeline(ch, new PeerSession(this, null, true));
    }

    private void connect(PeerNode n) {
        n.connecting = true;
        n.newConnections++;
        n.lastStatus = StatusCode.CONNECTING;
        n.lastHandshake = System.nanoTime();
        PeerSession session = new PeerSession(this, n, false);
        n.session = session;
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(socketChannel)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        pipeline(ch, session);
                    }
                });
        ChannelFuture f = source == null ? b.connect(n.address) : b.connect(n.address, new InetSocketAddress(source, 0));
        f.addListener(done -> {
            n.connecting = false;
            if (!done.isSuccess()) {
                if (n.session == session) {
                    n.session = null;
                }
                n.reconnectAt = System.nanoTime() + RETRY_NANOS;
                LOG.fine(() -> "peer " + n.name() + ": " + PeerEnd.CONNECT_FAILED.code() + " to " + n.settings.address()
                        + " (" + Reasons.of(done.cause()) + "); again in 5 s");
            }
        });
    }

    private void pipeline(SocketChannel ch, PeerSession session) {
        boolean inbound = session.inbound();
        if (tls != null) {
            ch.pipeline().addLast("tls", inbound ? tls.server().newHandler(ch.alloc()) : tls.client().newHandler(ch.alloc()));
        }
        ch.pipeline().addLast("idle", new IdleStateHandler(PeerSession.READ_TIMEOUT_SECONDS, PeerSession.HEARTBEAT_SECONDS, 0));
        ch.pipeline().addLast("decoder", new PeerDecoder(inbound ? PeerDecoder.Side.ACCEPTING : PeerDecoder.Side.CONNECTING));
        ch.pipeline().addLast("session", session);
    }

    /** An accepted connection's hello named {@code node}: it becomes the node's connection, replacing any other. */
    void claim(PeerSession session, PeerNode node) {
        PeerSession previous = node.session;
        node.session = session;
        if (previous != null && previous != session) {
            node.collisions++;
            node.reconnectAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50 + ThreadLocalRandom.current().nextInt(2000));
            previous.end(PeerEnd.REPLACED, null);
        }
    }

    /** A connection's handshake is done: it may be asked for the tables. */
    void established(PeerNode node) {
        considerTeacher();
    }

    /** A connection ended; after an established one, the peer is called again after 50 to 2050 ms. */
    void ended(PeerSession session, PeerNode node) {
        if (node == null || node.session != session) {
            return;
        }
        node.session = null;
        long delay = session.established() ? TimeUnit.MILLISECONDS.toNanos(50 + ThreadLocalRandom.current().nextInt(2000))
                : RETRY_NANOS;
        node.reconnectAt = Math.max(node.reconnectAt, System.nanoTime() + delay);
        node.notUpToDate = false;
        if (node.learnAssigned) {
            node.learnAssigned = false;
            if (resync == Resync.ASSIGNED) {
                resync = Resync.WAITING;
                considerTeacher();
            }
        }
    }

    // ---- resync ----

    /** Asks a connected peer that may be up to date for the tables, when this node still needs them. */
    private void considerTeacher() {
        if (resync != Resync.WAITING) {
            return;
        }
        for (PeerNode n : nodes) {
            if (n.established() && !n.notUpToDate) {
                n.learnAssigned = true;
                resync = Resync.ASSIGNED;
                LOG.info(() -> "peers: asking " + n.name() + " for the whole tables");
                n.session.send();
                return;
            }
        }
    }

    /** The assigned peer sent FINISHED ({@code upToDate}) or PARTIAL. */
    void learned(PeerNode node, boolean upToDate) {
        node.learnAssigned = false;
        if (resync != Resync.ASSIGNED) {
            return;
        }
        if (upToDate) {
            resyncFinished = true;
            resyncDone("taught by " + node.name());
            return;
        }
        resyncPartial = true;
        node.notUpToDate = true;
        if (nodes.stream().allMatch(n -> n.notUpToDate)) {
            resyncDone("every node answered that it was not up to date either");
            return;
        }
        resync = Resync.WAITING;
        considerTeacher();
    }

    private void resyncDone(String how) {
        if (resync == Resync.DONE) {
            return;
        }
        resync = Resync.DONE;
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        int entries = tables.stream().mapToInt(t -> t.table().count()).sum();
        LOG.info(() -> "peers: resync done after " + millis + " ms: " + how + "; " + entries + " entries in "
                + tables.size() + " table(s)");
        resynced.trySuccess(how);
    }

    /** Whether this node's tables are up to date (its resync is done): a teaching ends FINISHED, else PARTIAL. */
    boolean upToDate() {
        return resync == Resync.DONE;
    }

    /**
     * Waits until this node's resync is done (taught, or every node answered, or
     * {@code resync-timeout} passed) or the wait gives up; called before the frontends accept clients.
     *
     * @return how the resync ended, for the log
     */
    public String awaitResync() throws InterruptedException {
        try {
            return resynced.get(settings.resyncTimeout().toMillis() + 5000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            return "not done: " + Reasons.of(e);
        }
    }

    // ---- updates ----

    /** A local update of a synced table: the loop sends it to every connected peer, soon. */
    private void wake() {
        if (!closed && wakePending.compareAndSet(false, true)) {
            loop.execute(() -> {
                wakePending.set(false);
                for (PeerNode n : nodes) {
                    if (n.established()) {
                        n.session.send();
                    }
                }
            });
        }
    }

    // ---- for sessions ----

    String localName() {
        return settings.localName();
    }

    PeerNode node(String name) {
        for (PeerNode n : nodes) {
            if (n.name().equals(name)) {
                return n;
            }
        }
        return null;
    }

    // ---- visibility ----

    /**
     * HAProxy's {@code show peers} for this section: the section's line, then one block per peer,
     * this node first, with the same fields (addresses of objects are identity hashes here).
     * Safe from any thread: it is rendered on the section's loop.
     */
    public String showPeers() {
        return onLoop(() -> ShowPeers.render(this));
    }

    /** Each peer's figures, in configuration order; safe from any thread. */
    public List<PeerFigures> figures() {
        return onLoop(() -> {
            List<PeerFigures> out = new ArrayList<>();
            long now = System.nanoTime();
            for (PeerNode n : nodes) {
                out.add(new PeerFigures(n.name(), n.established(), n.lastStatus.shortName(), n.newConnections,
                        n.updatesSent, n.updatesAcknowledged, n.updatesReceived, n.updatesIgnored,
                        n.lastUpdateReceived == 0 ? -1 : TimeUnit.NANOSECONDS.toSeconds(now - n.lastUpdateReceived),
                        n.resyncsTaught, n.resyncsLearned, n.protocolErrors, n.heartbeatTimeouts));
            }
            return out;
        });
    }

    /** The address the section listens on (the bound one). */
    public InetSocketAddress boundAddress() {
        return (InetSocketAddress) listener.localAddress();
    }

    private <T> T onLoop(java.util.concurrent.Callable<T> task) {
        try {
            return loop.submit(task).get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("the peers' event loop did not answer: " + Reasons.of(e), e);
        }
    }

    // Read by ShowPeers, on the loop.
    PeersSettings settings() {
        return settings;
    }

    List<PeerNode> nodes() {
        return nodes;
    }

    List<SyncedTable> tables() {
        return tables;
    }

    long lastChange() {
        return lastChange;
    }

    long ticks() {
        return ticks;
    }

    /** HAProxy's section flags for show peers: resync state bits of {@code PEERS_F_*}. */
    int flags() {
        int f = 0x1; // PEERS_F_RESYNC_LOCAL: there is never an old local process to learn from
        if (resync == Resync.DONE) {
            f |= 0x2;
        }
        if (resync == Resync.ASSIGNED) {
            f |= 0x4 | 0x8 | 0x2000; // ASSIGN, PROCESS, REMOTEASSIGN
        }
        if (resyncTimedOut) {
            f |= 0x20;
        }
        if (resyncFinished) {
            f |= 0x200;
        }
        if (resyncPartial) {
            f |= 0x800;
        }
        return f;
    }

    /** Milliseconds until the resync deadline, negative once past. */
    long resyncRemainingMillis() {
        return settings.resyncTimeout().toMillis() - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    }

    /**
     * Stops: closes the listener and every connection, then the section's event loop. The tables
     * stay as they are.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (SyncedTable t : tables) {
            t.table().listener(null);
        }
        if (!loop.isShuttingDown()) {
            try {
                loop.submit(() -> {
                    if (listener != null) {
                        listener.close();
                    }
                    for (PeerNode n : nodes) {
                        if (n.session != null) {
                            n.session.end(PeerEnd.STOPPING, null);
                        }
                    }
                }).get(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                LOG.warning(() -> "peers: closing the connections: " + Reasons.of(e));
            }
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    /** Two addresses of one host, IPv4 and its IPv4-mapped IPv6 form alike. */
    static boolean sameHost(InetAddress a, InetAddress b) {
        return java.util.Arrays.equals(v6(a.getAddress()), v6(b.getAddress()));
    }

    private static byte[] v6(byte[] a) {
        if (a.length == 16) {
            return a;
        }
        byte[] m = new byte[16];
        m[10] = (byte) 0xFF;
        m[11] = (byte) 0xFF;
        System.arraycopy(a, 0, m, 12, 4);
        return m;
    }
}
