package io.mailproxy.session;

import io.mailproxy.backend.Backend;
import io.mailproxy.backend.ConnectFailure;
import io.mailproxy.backend.Dispatch;
import io.mailproxy.backend.Server;
import io.mailproxy.backend.ServerConnection;
import io.mailproxy.config.FrontendSettings;
import io.mailproxy.limit.ConnectionGate;
import io.mailproxy.limit.SourceKey;
import io.mailproxy.log.Reasons;
import io.mailproxy.log.SessionLog;
import io.mailproxy.log.Termination;
import io.mailproxy.mail.Conversation;
import io.mailproxy.mail.MailProtocol;
import io.mailproxy.relay.RelayHandler;
import io.mailproxy.relay.RelaySession;
import io.mailproxy.relay.Side;
import io.mailproxy.stats.ProxyCounters;
import io.mailproxy.stats.Stat;
import io.mailproxy.stats.Statistics;
import io.mailproxy.starttls.GreetingFilter;
import io.mailproxy.tls.RenegotiationGuard;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOption;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One client session from accept to its log line: a small state machine owned by the client's
 * event loop (the server channel is registered on the same loop, as in Netty's proxy example, so
 * no field needs to be volatile).
 *
 * <pre>
 * ACCEPTED -> HEADER (accept-proxy) -> [PRE_TLS (STARTTLS)] -> TLS -> CONNECTING (queue, connect, greeting) -> RELAYING
 *                                      (starttls-optional, plaintext) \------------^                 \-> CLOSING -> ENDED
 * </pre>
 *
 * <p>Every phase has a bound: the PROXY header's timeout, the plaintext dialogue of a STARTTLS
 * frontend ({@code tls.starttls.timeout} from the accept), the TLS handshake counted from the
 * accept (from the STARTTLS command), the dispatch's queue, connect and greeting timeouts, the
 * idle and send-stall timers while relaying, and the fin timeouts while closing. Whatever ends the session, in whatever order events
 * arrive, goes through {@link #finish}: the first reason is the one logged, the channels are closed
 * (flushing what is left, within the fin timeouts, or at once for a stall or a timeout), and once
 * both are closed the session is {@code ENDED}: its line is logged and every counter, slot and
 * queue place it held is given back, each exactly once (as HAProxy's {@code stream_free()}).
 */
public final class Session implements RelaySession, Server.Attached {

    /** Where a session is in its life. */
    public enum Phase {
        /** Accepted, nothing said yet. */
        ACCEPTED,
        /** Waiting for the PROXY header (accept-proxy). */
        HEADER,
        /** A STARTTLS frontend: mailproxy's own plaintext dialogue, until STARTTLS. */
        PRE_TLS,
        /** The client's TLS handshake. */
        TLS,
        /** Finding a server: queue, connect, greeting. */
        CONNECTING,
        RELAYING,
        CLOSING,
        ENDED;
    }

    private final Channel client;
    private final SessionContext context;
    private final FrontendSettings frontend;
    private final Backend backend;
    private final long acceptedAtMillis = System.currentTimeMillis();
    private final long acceptedAtNanos = System.nanoTime();
    private final Conversation conversation;

    /** This event loop's counters (see {@link io.mailproxy.stats.LoopCounters}), and the blocks counted in. */
    private final long[] stripe;
    private final ProxyCounters frontendCounters;
    private final ProxyCounters backendCounters;
    private ProxyCounters serverCounters;
    private boolean sentToBackend;

    private InetSocketAddress clientAddress;
    /** Volatile for the statistics' and the runtime API's readers only; written by the owner loop. */
    private volatile Phase phase = Phase.ACCEPTED;
    /** The phase {@link #finish} was called in, for the log's phase character. */
    private Phase endedIn;
    private boolean queuedWhenEnded;
    private Termination termination;
    private String detail;
    private Dispatch dispatch;
    private Channel server;
    private ServerConnection connection;
    private boolean serverReleased;
    private StartHandler starter;
    private ScheduledFuture<?> timer;
    private long connectMillis = -1;
    private long bytesToClient;
    private long bytesFromClient;
    private boolean clientFin;
    private boolean stopping;
    private SourceKey source;
    private String uniqueId;
    private boolean logged;
    /** Whether the client speaks TLS now: from the accept (implicit), or once its STARTTLS handshake is done. */
    private boolean clientTls;
    /** STARTTLS frontends: replies the server owes to a preamble sent in the client's name, not passed on. */
    private int serverRepliesToDrop;
    /** STARTTLS frontends: commands refused before TLS, by verb, for the log line. */
    private final Set<String> refusedBeforeTls = new LinkedHashSet<>();
    private int discardedAfterStartTls;

    /** A session for a just-accepted {@code client}; counted from now until it is logged. */
    public Session(Channel client, SessionContext context) {
        this.client = client;
        this.context = context;
        this.frontend = context.frontend();
        this.backend = context.backend();
        this.clientAddress = (InetSocketAddress) client.remoteAddress();
        this.conversation = Conversation.of(frontend.protocol());
        context.processActive().incrementAndGet();
        context.frontendActive().incrementAndGet();
        backend.active().incrementAndGet();
        ConnectionGate.Slot slot = ConnectionGate.slotOf(client);
        if (slot != null) {
            // the connection's slot is the session's now: free once the session has ended and is logged
            slot.ownedBySession();
        }
        Statistics stats = context.statistics();
        this.stripe = stats.stripe();
        this.frontendCounters = stats.frontend(frontend.name());
        this.backendCounters = stats.backend(backend.name());
        frontendCounters.session(stripe, acceptedAtMillis, context.frontendActive().get());
        context.registry().add(this);
        client.closeFuture().addListener(f -> clientClosed());
    }

    /**
     * The client channel is closed. Its last handler reports why when {@code channelInactive}
     * passes; that event is queued after this listener, so a session that nobody finished by then
     * is finished by phase after it (two hops on the loop), so that it always ends.
     */
    private void clientClosed() {
        // HEADER: the accept-proxy handler reports (it must wait for the decoder's verdict).
        if (phase.compareTo(Phase.CLOSING) < 0 && phase != Phase.HEADER) {
            client.eventLoop().execute(() -> client.eventLoop().execute(() -> {
                if (phase.compareTo(Phase.CLOSING) < 0) {
                    clientGone();
                }
            }));
        }
        maybeEnded();
    }

    public Channel client() {
        return client;
    }

    public Backend backend() {
        return backend;
    }

    public FrontendSettings frontend() {
        return frontend;
    }

    public Phase phase() {
        return phase;
    }

    /** When the client was accepted, ms since the epoch. */
    public long acceptedAtMillis() {
        return acceptedAtMillis;
    }

    /** The server it is connected to, or null. Any thread (a racy read, for statistics). */
    public Server server() {
        ServerConnection c = connection;
        return c == null ? null : c.server();
    }

    /** How it ended (the first reason given), or null while it has not. */
    public Termination termination() {
        return termination;
    }

    /** The detail logged with {@link #termination()}, or null. */
    public String detail() {
        return detail;
    }

    /** Whether it waits in its backend's queue now. */
    public boolean queued() {
        return phase == Phase.CONNECTING && dispatch != null && dispatch.stage() == Dispatch.Stage.QUEUED;
    }

    /** The client's address: the socket's peer, or what a trusted PROXY header said. */
    public InetSocketAddress clientAddress() {
        return clientAddress;
    }

    /**
     * An id for this session, 32 hex digits from a random UUID, made on first use: the UNIQUE_ID
     * TLV of the PROXY header (proxy-v2-options unique-id), the same on every connection attempt.
     */
    public String uniqueId() {
        if (uniqueId == null) {
            uniqueId = UUID.randomUUID().toString().replace("-", "");
        }
        return uniqueId;
    }

    /** The conversation mailproxy follows for this session (LMTP transactions, goodbyes). */
    public Conversation conversation() {
        return conversation;
    }

    // ---- before a server is asked for ----------------------------------------------------------

    /** An accept-proxy frontend: the header must arrive within {@code timeout} of the accept. */
    public void expectHeader(Duration timeout) {
        if (phase != Phase.ACCEPTED) {
            return;
        }
        phase = Phase.HEADER;
        timer = schedule(timeout.toMillis(), () -> finish(Termination.PROXY_TIMEOUT,
                "PRX_TIMEOUT: no complete PROXY header within " + timeout.toMillis() + "ms", true));
    }

    /** The PROXY header is in: the client is who it says. */
    public void headerReceived(InboundAddresses addresses) {
        cancelTimer();
        clientAddress = addresses.client();
        phase = Phase.ACCEPTED;
    }

    /**
     * Counts the client against its frontend's per-source limits, before any TLS work. A refused
     * client is closed (a plaintext frontend first writes the protocol's "busy" reply; a TLS client
     * could not read it) and false is returned.
     */
    public boolean admitSource() {
        if (clientAddress == null || clientAddress.getAddress() == null) {
            return true;
        }
        SourceKey key = SourceKey.of(clientAddress.getAddress(), frontend.sourceIpv6Prefix());
        if (context.sources() != null) {
            if (!context.sources().tryAcquire(key)) {
                refuse(Termination.SOURCE_LIMIT, key + " already holds " + context.sources().max()
                        + " connections (max-connections-per-source)");
                return false;
            }
            source = key;
        }
        if (context.rates() != null && !context.rates().tryAcquire(key)) {
            refuse(Termination.RATE_LIMITED, "more than " + frontend.rateLimitPerSource() + " connections from " + key);
            return false;
        }
        return true;
    }

    /**
     * An accept-proxy frontend: the connection ends before a header was accepted (an untrusted
     * peer, an invalid or truncated header); closed at once.
     */
    public void headerFailed(Termination reason, String why) {
        finish(reason, why, true);
    }

    private void refuse(Termination reason, String why) {
        if (!frontend.tls().implicit() && client.isActive()) {
            client.write(Unpooled.wrappedBuffer(frontend.protocol().busyReply()));
        }
        finish(reason, why, false);
    }

    /** A TLS frontend: the handshake must be complete within {@code tls.handshake-timeout} of the accept. */
    void expectTls() {
        if (phase != Phase.ACCEPTED) {
            return;
        }
        phase = Phase.TLS;
        long left = frontend.tls().handshakeTimeout().toMillis() - millisSince(acceptedAtNanos);
        timer = schedule(Math.max(left, 1), () -> finish(Termination.TLS_TIMEOUT, "no complete TLS handshake within "
                + frontend.tls().handshakeTimeout().toMillis() + "ms of the accept", true));
    }

    /** The TLS handshake succeeded at {@code protocol} (e.g. {@code TLSv1.3}), resuming a session or not. */
    void tlsEstablished(String protocol, boolean resumed) {
        frontendCounters.add(stripe, Stat.TLS_HANDSHAKES, 1);
        if (resumed) {
            frontendCounters.add(stripe, Stat.TLS_RESUMED, 1);
        }
        if ("TLSv1.3".equals(protocol)) {
            frontendCounters.add(stripe, Stat.TLS_V1_3, 1);
        } else if ("TLSv1.2".equals(protocol)) {
            frontendCounters.add(stripe, Stat.TLS_V1_2, 1);
        }
    }

    /**
     * A STARTTLS frontend: mailproxy greets and speaks the plaintext dialogue, which must end (in
     * STARTTLS, or a command for a server with {@code starttls-optional}) within
     * {@code tls.starttls.timeout} of the accept.
     */
    void expectPreTls() {
        if (phase != Phase.ACCEPTED) {
            return;
        }
        phase = Phase.PRE_TLS;
        Duration bound = frontend.tls().startTls().timeout();
        long left = bound.toMillis() - millisSince(acceptedAtNanos);
        timer = schedule(Math.max(left, 1), () -> finish(Termination.STARTTLS_TIMEOUT, "no STARTTLS within "
                + bound.toMillis() + "ms of the accept", true));
    }

    /** STARTTLS was sent and answered: the handshake must be complete within {@code tls.handshake-timeout} of it. */
    void startTlsSent(int discardedBytes) {
        if (phase != Phase.PRE_TLS) {
            return;
        }
        cancelTimer();
        discardedAfterStartTls = discardedBytes;
        phase = Phase.TLS;
        long bound = frontend.tls().handshakeTimeout().toMillis();
        timer = schedule(bound, () -> finish(Termination.TLS_TIMEOUT, "no complete TLS handshake within "
                + bound + "ms of STARTTLS", true));
    }

    /** {@code starttls-optional}: the client goes on in plaintext; {@code repliesToDrop} replies of the server are mailproxy's to swallow. */
    void stayPlaintext(int repliesToDrop) {
        if (phase != Phase.PRE_TLS) {
            return;
        }
        cancelTimer();
        serverRepliesToDrop = repliesToDrop;
        phase = Phase.ACCEPTED;
    }

    /** The plaintext dialogue refused a command. */
    void refusedBeforeTls(String verb) {
        refusedBeforeTls.add(verb);
    }

    /** The plaintext dialogue ended the session: a goodbye, or a broken bound ({@code violation}, not null). */
    void preTlsEnded(String violation) {
        if (phase != Phase.PRE_TLS) {
            return;
        }
        if (violation == null) {
            finish(Termination.NORMAL, "logged out before STARTTLS", false);
        } else {
            finish(Termination.STARTTLS_VIOLATION, violation, false);
        }
    }

    /** The TLS handshake ended: {@code failure} is null when it succeeded. */
    void tlsDone(Throwable failure) {
        if (phase != Phase.TLS) {
            return;
        }
        cancelTimer();
        if (failure != null) {
            finish(Termination.TLS_HANDSHAKE_FAILED, Reasons.of(failure), true);
        } else {
            clientTls = true;
        }
    }

    private static long millisSince(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000;
    }

    /** Starts looking for a server; {@code header} makes the PROXY header for each attempt. */
    void connect(StartHandler start, Supplier<ByteBuf> header) {
        if (phase.compareTo(Phase.CONNECTING) >= 0) {
            return;
        }
        starter = start;
        phase = Phase.CONNECTING;
        sentToBackend = true;
        backendCounters.session(stripe, System.currentTimeMillis(), backend.active().get());
        dispatch = context.connector().dispatch(backend, client.eventLoop(), clientAddress, header);
        if (dispatch.stage() == Dispatch.Stage.QUEUED) {
            backendCounters.queueNow(backend.queue().size());
        }
        if (stopping) {
            finish(Termination.STOPPING, "mailproxy is stopping", false);
            return;
        }
        dispatch.result().addListener(this::dispatched);
    }

    private void dispatched(Future<? super ServerConnection> f) {
        if (f.isCancelled()) {
            return;
        }
        if (!f.isSuccess()) {
            ConnectFailure failure = (ConnectFailure) f.cause();
            Termination t = failure.termination();
            boolean busy = t == Termination.QUEUE_FULL || t == Termination.QUEUE_TIMEOUT;
            MailProtocol p = frontend.protocol();
            if (client.isActive()) {
                client.write(Unpooled.wrappedBuffer(busy ? p.busyReply() : p.unavailableReply()));
            }
            finish(t, failure.detail(), false);
            return;
        }
        ServerConnection c = (ServerConnection) f.getNow();
        if (phase != Phase.CONNECTING) {
            // ended meanwhile: give everything back
            io.netty.util.ReferenceCountUtil.release(c.greeting());
            c.channel().close();
            c.slot().release();
            return;
        }
        relay(c);
    }

    // ---- relaying ------------------------------------------------------------------------------

    private void relay(ServerConnection c) {
        serverCounters = context.statistics().server(c.server());
        serverCounters.session(stripe, System.currentTimeMillis(), c.server().activeSessions());
        connection = c;
        server = c.channel();
        phase = Phase.RELAYING;
        connectMillis = (System.nanoTime() - acceptedAtNanos) / 1_000_000;
        c.server().attach(this);
        server.closeFuture().addListener(f -> {
            releaseServer();
            maybeEnded();
        });
        long idle = frontend.idleTimeout().toMillis();
        server.pipeline().addLast(new IdleStateHandler(true, 0, idle, 0, TimeUnit.MILLISECONDS),
                new RelayHandler(this, Side.SERVER));
        ByteBuf greeting = c.greeting();
        if (frontend.tls().mode().startTls()) {
            greeting = filterGreeting(greeting);
            if (phase != Phase.RELAYING) {
                return;
            }
        }
        if (greeting != null) {
            relayed(Side.SERVER, greeting);
            client.write(greeting, client.voidPromise());
        }
        starter.relay(server, new IdleStateHandler(true, 0, idle, idle, TimeUnit.MILLISECONDS),
                new RelayHandler(this, Side.CLIENT), clientFin);
        if (!server.isActive()) {
            // gone before its relay handler was there to see it go
            finish(serverEnding(), null, false);
        } else if (stopping) {
            stop();
        }
    }

    /**
     * A STARTTLS session: the client had mailproxy's greeting before TLS, so the server's is taken
     * out, whole, by a filter in front of the server's relay handler; returns what of {@code first}
     * (the server's first bytes, or null) goes on.
     */
    private ByteBuf filterGreeting(ByteBuf first) {
        GreetingFilter filter = new GreetingFilter(frontend.protocol(), serverRepliesToDrop);
        ByteBuf rest = null;
        try {
            rest = first == null ? null : filter.filter(first);
        } catch (RuntimeException e) {
            finish(Termination.SERVER_ABORT, Reasons.of(e), true);
            return null;
        }
        if (!filter.done()) {
            server.pipeline().addBefore(server.pipeline().context(IdleStateHandler.class).name(),
                    PipelineNames.GREETING_FILTER, filter);
        }
        return rest;
    }

    /** Counts an early byte batch the starter passes on to the server. */
    void earlyFromClient(ByteBuf buf) {
        relayed(Side.CLIENT, buf);
    }

    @Override
    public Channel peer(Side side) {
        return side == Side.CLIENT ? server : client;
    }

    @Override
    public void relayed(Side side, ByteBuf buf) {
        int n = buf.readableBytes();
        Stat stat = side == Side.CLIENT ? Stat.BYTES_IN : Stat.BYTES_OUT;
        frontendCounters.add(stripe, stat, n);
        backendCounters.add(stripe, stat, n);
        if (serverCounters != null) {
            serverCounters.add(stripe, stat, n);
        }
        if (side == Side.CLIENT) {
            bytesFromClient += buf.readableBytes();
            conversation.fromClient(buf);
        } else {
            bytesToClient += buf.readableBytes();
            conversation.fromServer(buf);
            if (stopping && frontend.protocol() == MailProtocol.LMTP && !conversation.inTransaction()) {
                // between two deliveries: an MTA retries later, nothing is lost or duplicated
                client.eventLoop().execute(() -> finish(Termination.STOPPING, "mailproxy is stopping", false));
            }
        }
    }

    @Override
    public void inputShutdown(Side side) {
        if (side == Side.CLIENT) {
            clientFin = true;
            if (server != null && server.isActive()) {
                RelayHandler.shutdownOutputAfterWrites((io.netty.channel.socket.DuplexChannel) server);
                // the server is expected to finish now: bound the silence by timeout.server-fin
                long fin = backend.settings().serverFinTimeout().toMillis();
                client.pipeline().replace(IdleStateHandler.class, null,
                        new IdleStateHandler(true, 0, fin, fin, TimeUnit.MILLISECONDS));
            } else {
                finish(Termination.NORMAL, null, false);
            }
        } else {
            finish(serverEnding(), null, false);
        }
    }

    @Override
    public void idle(Side side, IdleStateEvent event) {
        if (phase != Phase.RELAYING) {
            return;
        }
        long idle = frontend.idleTimeout().toMillis();
        if (side == Side.SERVER || event.state() == IdleState.WRITER_IDLE) {
            Channel ch = side == Side.SERVER ? server : client;
            long pending = RelayHandler.pendingBytes(ch);
            if (pending > 0) {
                finish(side == Side.SERVER ? Termination.SERVER_STALLED : Termination.CLIENT_STALLED,
                        pending + " bytes not read in " + (clientFin ? backend.settings().serverFinTimeout().toMillis() : idle)
                                + "ms", true);
            }
            return;
        }
        long toClient = RelayHandler.pendingBytes(client);
        long toServer = server == null ? 0 : RelayHandler.pendingBytes(server);
        if (toClient > 0) {
            finish(Termination.CLIENT_STALLED, toClient + " bytes not read in " + idle + "ms", true);
        } else if (toServer > 0) {
            finish(Termination.SERVER_STALLED, toServer + " bytes not read in " + idle + "ms", true);
        } else if (clientFin) {
            finish(Termination.SERVER_FIN_TIMEOUT, "the client half-closed and the server did not finish within "
                    + backend.settings().serverFinTimeout().toMillis() + "ms", true);
        } else {
            finish(Termination.IDLE_TIMEOUT, null, false);
        }
    }

    @Override
    public void closed(Side side) {
        if (side == Side.CLIENT) {
            clientGone();
        } else {
            finish(serverEnding(), null, false);
        }
    }

    @Override
    public void failed(Side side, Throwable cause) {
        if (side == Side.CLIENT) {
            finish(renegotiation(cause) ? Termination.TLS_RENEGOTIATION : Termination.CLIENT_ABORT, Reasons.of(cause), true);
        } else {
            Termination t = serverEnding();
            finish(t == Termination.NORMAL ? Termination.SERVER_ABORT : t, Reasons.of(cause), false);
        }
    }

    /** How a close by the server reads now. */
    private Termination serverEnding() {
        if (clientFin) {
            return Termination.NORMAL;
        }
        return switch (conversation.serverEnding()) {
            case GOODBYE -> Termination.NORMAL;
            case ABRUPT -> Termination.SERVER_ABORT;
            case ABRUPT_IN_DELIVERY -> Termination.SERVER_ABORT_IN_TRANSACTION;
        };
    }

    // ---- the client goes away before the relay -------------------------------------------------

    /** The client's channel closed (its last handler saw it go inactive). */
    void clientGone() {
        Termination t = switch (phase) {
            case HEADER -> Termination.PROXY_TRUNCATED;
            case PRE_TLS -> Termination.CLIENT_GONE_BEFORE_TLS;
            case TLS -> Termination.TLS_HANDSHAKE_FAILED;
            case CONNECTING -> queued() ? Termination.CLIENT_GONE_IN_QUEUE : Termination.CLIENT_GONE_BEFORE_CONNECT;
            default -> Termination.NORMAL;
        };
        finish(t, phase == Phase.TLS ? "the client closed the connection during the handshake" : null, false);
    }

    /**
     * The client half-closed before its session was relayed. Mail clients wait for the greeting, so
     * a client that closes its side before it, having sent nothing, has left; one that sent
     * commands first (a pipelining script) gets them and its FIN passed on once the relay starts.
     */
    void clientFinBeforeRelay(boolean sentSomething) {
        clientFin = true;
        if (phase == Phase.CONNECTING && queued()) {
            // a client that gives up while it waits frees its place at once
            finish(Termination.CLIENT_GONE_IN_QUEUE, null, false);
        } else if (phase == Phase.CONNECTING && !sentSomething) {
            finish(Termination.CLIENT_GONE_BEFORE_CONNECT, null, false);
        } else if (phase == Phase.PRE_TLS) {
            finish(Termination.CLIENT_GONE_BEFORE_TLS, "the client closed its side before STARTTLS", false);
        } else if (phase != Phase.CONNECTING) {
            finish(phase == Phase.TLS ? Termination.TLS_HANDSHAKE_FAILED : Termination.CLIENT_GONE_BEFORE_CONNECT,
                    phase == Phase.TLS ? "the client closed its side during the handshake" : null, false);
        }
    }

    /** The client's channel failed before the relay. */
    void clientFailed(Throwable cause) {
        Termination t = renegotiation(cause) ? Termination.TLS_RENEGOTIATION
                : phase == Phase.TLS || phase == Phase.ACCEPTED && frontend.tls().implicit()
                ? Termination.TLS_HANDSHAKE_FAILED : Termination.CLIENT_ABORT;
        finish(t, Reasons.of(cause), true);
    }

    private static boolean renegotiation(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof RenegotiationGuard.RenegotiationRefused) {
                return true;
            }
        }
        return false;
    }

    // ---- stopping ------------------------------------------------------------------------------

    /** mailproxy is stopping: end now, or once the frontend's {@code shutdown-grace} runs out. */
    public void stop() {
        if (!client.eventLoop().inEventLoop()) {
            client.eventLoop().execute(this::stop);
            return;
        }
        stopping = true;
        if (phase.compareTo(Phase.CLOSING) >= 0) {
            return;
        }
        if (phase != Phase.RELAYING) {
            if ((phase == Phase.CONNECTING || phase == Phase.PRE_TLS) && client.isActive()) {
                // the client had no greeting yet: it reads the protocol's "try again later"
                client.write(Unpooled.wrappedBuffer(frontend.protocol().unavailableReply()));
            }
            finish(Termination.STOPPING, "mailproxy is stopping", false);
            return;
        }
        Duration grace = frontend.shutdownGrace();
        boolean lmtpIdle = frontend.protocol() == MailProtocol.LMTP && !conversation.inTransaction();
        if (grace.isZero() || lmtpIdle) {
            finish(Termination.STOPPING, "mailproxy is stopping", false);
        } else if (timer == null) {
            timer = schedule(grace.toMillis(), () -> finish(Termination.STOPPING,
                    "shutdown-grace of " + grace.toMillis() + "ms ran out", false));
        }
    }

    /** Ends the session now, whatever it is doing (the stop's last resort). */
    public void kill(String why) {
        if (!client.eventLoop().inEventLoop()) {
            client.eventLoop().execute(() -> kill(why));
            return;
        }
        finish(Termination.STOPPING, why, true);
    }

    @Override
    public void shutdown(Termination reason, String why) {
        client.eventLoop().execute(() -> finish(reason, why, false));
    }

    // ---- the one way out -----------------------------------------------------------------------

    /**
     * Ends the session with {@code reason} (only the first reason counts). {@code abort}: close both
     * channels at once, dropping what they still hold (a stall, a timeout, an error); otherwise what
     * is pending is flushed first, each side within its fin timeout. Safe to call any number of
     * times, from any state; a later abort hastens a graceful close.
     */
    void finish(Termination reason, String why, boolean abort) {
        if (phase == Phase.ENDED) {
            return;
        }
        if (phase == Phase.CLOSING) {
            if (abort) {
                abortChannels();
            }
            return;
        }
        termination = reason;
        detail = why;
        endedIn = phase;
        queuedWhenEnded = queued();
        phase = Phase.CLOSING;
        cancelTimer();
        if (dispatch != null) {
            dispatch.cancel();
        }
        if (abort) {
            abortChannels();
        } else {
            closeGracefully();
        }
        maybeEnded();
    }

    private void abortChannels() {
        abort(client);
        abort(server);
    }

    /** Closes {@code ch} at once: no flush, no TLS close_notify; an RST when data was left unsent. */
    private static void abort(Channel ch) {
        if (ch == null || !ch.isOpen()) {
            return;
        }
        if (RelayHandler.pendingBytes(ch) > 0) {
            ch.config().setOption(ChannelOption.SO_LINGER, 0);
        }
        ch.unsafe().close(ch.unsafe().voidPromise());
    }

    private void closeGracefully() {
        // nothing more is relayed: what was read is flushed, then each side closes
        if (client.isOpen()) {
            RelayHandler.setReading(client, false);
        }
        if (server != null && server.isOpen()) {
            RelayHandler.setReading(server, false);
        }
        closeAfterFlush(client);
        closeAfterFlush(server);
        watchClosing(RelayHandler.pendingBytes(client), server == null ? 0 : RelayHandler.pendingBytes(server));
    }

    private static void closeAfterFlush(Channel ch) {
        if (ch == null || !ch.isOpen()) {
            return;
        }
        if (ch.isActive()) {
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            ch.close();
        }
    }

    /**
     * While what was left is being flushed, each side must take some of it within its fin timeout
     * ({@code timeout.client-fin}, {@code timeout.server-fin}), else it is closed without the rest.
     */
    private void watchClosing(long toClient, long toServer) {
        if (phase != Phase.CLOSING || toClient == 0 && toServer == 0) {
            return;
        }
        long clientFinMillis = frontend.clientFinTimeout().toMillis();
        long serverFinMillis = backend.settings().serverFinTimeout().toMillis();
        long period = toClient > 0 && toServer > 0 ? Math.min(clientFinMillis, serverFinMillis)
                : toClient > 0 ? clientFinMillis : serverFinMillis;
        timer = schedule(period, () -> {
            long nowClient = client.isOpen() ? RelayHandler.pendingBytes(client) : 0;
            long nowServer = server != null && server.isOpen() ? RelayHandler.pendingBytes(server) : 0;
            if (nowClient > 0 && nowClient >= toClient) {
                detail = (detail == null ? "" : detail + "; ") + "closed with " + nowClient
                        + " bytes the client did not take within timeout.client-fin";
                abort(client);
            }
            if (nowServer > 0 && nowServer >= toServer) {
                detail = (detail == null ? "" : detail + "; ") + "closed with " + nowServer
                        + " bytes the server did not take within timeout.server-fin";
                abort(server);
            }
            watchClosing(client.isOpen() ? nowClient : 0, server != null && server.isOpen() ? nowServer : 0);
        });
    }

    /** The server channel is closed: its slot goes back at once, whatever the client side still does. */
    private void releaseServer() {
        if (serverReleased || connection == null) {
            return;
        }
        serverReleased = true;
        connection.server().detach(this);
        connection.slot().release();
    }

    /** Once finishing and both channels are closed: log once, then give everything back once. */
    private void maybeEnded() {
        if (phase != Phase.CLOSING || client.isOpen() || server != null && server.isOpen()) {
            return;
        }
        phase = Phase.ENDED;
        cancelTimer();
        try {
            releaseServer();
            log();
            Statistics.ended(stripe, termination, detail, dispatch == null ? 0 : dispatch.retries(), frontendCounters,
                    sentToBackend ? backendCounters : null, serverCounters);
        } finally {
            // whatever failed above (a process out of descriptors cannot even load a class), the
            // counts and slots go back
            if (source != null) {
                context.sources().release(source);
                source = null;
            }
            context.processActive().decrementAndGet();
            context.frontendActive().decrementAndGet();
            backend.active().decrementAndGet();
            ConnectionGate.Slot slot = ConnectionGate.slotOf(client);
            if (slot != null) {
                slot.release();
            }
            context.registry().remove(this);
        }
    }

    private void log() {
        if (logged) {
            return;
        }
        logged = true;
        long total = (System.nanoTime() - acceptedAtNanos) / 1_000_000;
        Server placed = connection != null ? connection.server() : dispatch != null ? dispatch.lastServer() : null;
        char phaseChar = switch (endedIn) {
            case CONNECTING -> queuedWhenEnded ? 'Q' : 'C';
            case RELAYING -> 'D';
            default -> 'R';
        };
        new SessionLog(clientAddress, acceptedAtMillis, frontend.name(), clientTls || frontend.tls().implicit(), backend.name(),
                placed == null ? null : placed.name(), dispatch == null ? 0 : dispatch.queueMillis(), connectMillis,
                total, bytesToClient, bytesFromClient, termination.state(phaseChar), termination,
                context.processActive().get(), context.frontendActive().get(), backend.active().get(),
                connection == null ? 0 : placed.activeSessions() + (serverReleased ? 1 : 0),
                dispatch == null ? 0 : dispatch.retries(),
                dispatch == null ? 0 : dispatch.serverAhead(), dispatch == null ? 0 : dispatch.backendAhead(),
                withNotes(detail)).log();
    }

    /** The detail, with what the STARTTLS dialogue refused or discarded: a reader of the log wants to see that. */
    private String withNotes(String d) {
        List<String> notes = new ArrayList<>();
        if (d != null && !d.isEmpty()) {
            notes.add(d);
        }
        if (!refusedBeforeTls.isEmpty()) {
            notes.add("refused before STARTTLS: " + String.join(" ", refusedBeforeTls));
        }
        if (discardedAfterStartTls > 0) {
            notes.add("discarded " + discardedAfterStartTls + " bytes sent after STARTTLS");
        }
        return notes.isEmpty() ? null : String.join("; ", notes);
    }

    private ScheduledFuture<?> schedule(long millis, Runnable task) {
        return client.eventLoop().schedule(() -> {
            timer = null;
            task.run();
        }, millis, TimeUnit.MILLISECONDS);
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    @Override
    public String toString() {
        InetSocketAddress a = clientAddress;
        String who = a == null ? "?" : a.getAddress() == null ? a.getHostString() : NetUtil.toAddressString(a.getAddress());
        return "session " + who + ":" + (a == null ? 0 : a.getPort()) + " " + frontend.name() + " " + phase;
    }
}
