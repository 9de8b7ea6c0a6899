package io.mailproxy.frontend;

import io.mailproxy.backend.BackendConnector;
import io.mailproxy.backend.OutboundProxyHeader;
import io.mailproxy.config.BackendSettings;
import io.mailproxy.config.ProxyV2Option;
import io.mailproxy.limit.RateLimiter;
import io.mailproxy.log.Termination;
import io.mailproxy.proxyprotocol.SslTlv;
import io.mailproxy.relay.Reasons;
import io.mailproxy.relay.RelayHandler;
import io.mailproxy.relay.Session;
import io.mailproxy.relay.Side;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Queue;

/**
 * A new client's first phase: wait for its TLS handshake (when the frontend speaks TLS), connect a
 * server with the PROXY header first, pass on whatever the client sent meanwhile, then hand the
 * client over to a {@link RelayHandler}. Nothing is read from the client while the server connects,
 * beyond what was already in flight.
 */
final class StartHandler extends ChannelInboundHandlerAdapter {

    private final Frontend frontend;
    private final BackendConnector connector;
    /** What a trusted PROXY header said, or null on a frontend without accept-proxy. */
    private final InboundAddresses inbound;
    private final Queue<ByteBuf> early = new ArrayDeque<>();
    private Session session;
    private String sniHostName;
    private boolean started;
    private boolean clientInputShut;
    /**
     * Bytes a client may send before its session is relayed (while its server connects or it
     * waits in the queue): mail clients wait for the greeting, so this is generous.
     */
    private static final int MAX_EARLY_BYTES = 64 * 1024;

    private int earlyBytes;
    /** The rate limit refused this connection: it reads the protocol's "busy" reply once it may. */
    private String rateLimited;

    StartHandler(Frontend frontend, BackendConnector connector, InboundAddresses inbound) {
        this.frontend = frontend;
        this.connector = connector;
        this.inbound = inbound;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        // Behind a PROXY header this handler is added to a channel that is long active, so the
        // session begins now; otherwise it begins with channelActive, as the channel comes up.
        if (inbound != null && ctx.channel().isActive()) {
            begin(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (inbound == null) {
            begin(ctx);
        }
        ctx.fireChannelActive();
    }

    private void begin(ChannelHandlerContext ctx) {
        session = frontend.newSession(ctx.channel());
        if (inbound != null) {
            session.clientAddress(inbound.client());
        }
        RateLimiter limiter = frontend.rateLimiter();
        InetSocketAddress source = session.clientAddress();
        // Counted at once (the connection exists now) but refused after the TLS handshake, so that
        // a TLS client can read why.
        if (limiter != null && source != null && source.getAddress() != null && !limiter.tryAcquire(source.getAddress())) {
            rateLimited = "more than " + frontend.settings().rateLimitPerSource() + " connections from "
                    + NetUtil.toAddressString(source.getAddress());
        }
        if (!frontend.settings().tls().enabled()) {
            start(ctx);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SniCompletionEvent sni && sni.isSuccess()) {
            sniHostName = sni.hostname();
        } else if (evt instanceof SslHandshakeCompletionEvent done) {
            if (done.isSuccess()) {
                start(ctx);
            } else {
                session.end(Termination.TLS_HANDSHAKE_FAILED, Reasons.of(done.cause()));
            }
        } else if (evt instanceof IdleStateEvent) {
            session.end(Termination.IDLE_TIMEOUT, "before a server was connected");
        } else if (evt instanceof ChannelInputShutdownEvent) {
            clientInputShut = true;
            if (!started) {
                session.end(Termination.CLIENT_GONE_BEFORE_CONNECT, null);
            } else if (session.waiting()) {
                // A client that closes while it waits for a greeting has given up: free its place.
                session.end(Termination.CLIENT_GONE_IN_QUEUE, null);
            }
        }
        ReferenceCountUtil.release(evt);
    }

    private void start(ChannelHandlerContext ctx) {
        if (started || session.ended()) {
            return;
        }
        started = true;
        if (rateLimited != null) {
            session.refuse(frontend.settings().protocol().busyReply(), Termination.RATE_LIMITED, rateLimited);
            return;
        }
        Channel client = ctx.channel();
        RelayHandler.setReading(client, false);
        SslHandler tls = client.pipeline().get(SslHandler.class);
        InetSocketAddress destination = inbound != null ? inbound.destination() : (InetSocketAddress) client.localAddress();
        // A plaintext frontend behind a balancer that terminated TLS may pass on what that
        // balancer saw (accept-proxy.forward-ssl); a frontend with its own TLS describes its own.
        boolean forward = tls == null && inbound != null && frontend.settings().acceptProxy().forwardSsl();
        SslTlv forwardedSsl = forward ? inbound.header().ssl().orElse(null) : null;
        String authority = sniHostName != null || !forward ? sniHostName : inbound.header().authority().orElse(null);
        BackendSettings backend = frontend.backend().settings();
        connector.connect(session,
                () -> OutboundProxyHeader.encode(backend.sendProxy(), backend.proxyV2Options(),
                        new OutboundProxyHeader.ClientSide(session.clientAddress(), destination, tls, authority, forwardedSsl,
                                frontend.settings().protocol().configName(),
                                backend.proxyV2Options().contains(ProxyV2Option.UNIQUE_ID) ? session.uniqueId() : null),
                        client.alloc()),
                server -> relay(ctx, server),
                (termination, why) -> session.refuse(termination == Termination.NO_SERVER
                        ? frontend.settings().protocol().unavailableReply()
                        : frontend.settings().protocol().busyReply(), termination, why));
    }

    private void relay(ChannelHandlerContext ctx, Channel server) {
        Channel client = ctx.channel();
        ByteBuf b;
        while ((b = early.poll()) != null) {
            session.countFromClient(b.readableBytes());
            server.write(b, server.voidPromise());
        }
        server.flush();
        if (clientInputShut) {
            RelayHandler.shutdownOutputAfterWrites((DuplexChannel) server);
        }
        ctx.pipeline().replace(this, PipelineNames.RELAY, new RelayHandler(session, Side.CLIENT));
        RelayHandler.setReading(server, true);
        RelayHandler.setReading(client, true);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf && !session.ended()) {
            early.add(buf);
            earlyBytes += buf.readableBytes();
            if (earlyBytes > MAX_EARLY_BYTES) {
                // read again once relayed: the server's side then applies backpressure
                RelayHandler.setReading(ctx.channel(), false);
            }
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        session.end(Termination.CLIENT_GONE_BEFORE_CONNECT, null);
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        ByteBuf b;
        while ((b = early.poll()) != null) {
            b.release();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        boolean handshaking = !started && frontend.settings().tls().enabled();
        session.end(handshaking ? Termination.TLS_HANDSHAKE_FAILED : Termination.CLIENT_ABORT, Reasons.of(cause));
    }
}
