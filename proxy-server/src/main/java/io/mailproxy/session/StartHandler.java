package io.mailproxy.session;

import io.mailproxy.backend.OutboundProxyHeader;
import io.mailproxy.config.BackendSettings;
import io.mailproxy.config.FrontendSettings;
import io.mailproxy.config.ProxyV2Option;
import io.mailproxy.proxyprotocol.SslTlv;
import io.mailproxy.relay.RelayHandler;
import io.mailproxy.tls.TlsResumption;
import io.mailproxy.starttls.PreTlsHandler;
import io.mailproxy.starttls.PreTlsListener;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Queue;

/**
 * The client pipeline's last handler until the session relays: reports the TLS handshake, the
 * client's FIN, close and errors to the {@link Session}, starts the search for a server (with the
 * PROXY header built from what the handshake and the inbound header said), keeps what the client
 * sends meanwhile (bounded), and finally hands the client over to a {@link RelayHandler}.
 *
 * <p>On a STARTTLS frontend it starts the {@link PreTlsHandler}'s dialogue once the client is
 * admitted, and hears how it ends: STARTTLS (the session then waits for the handshake, as an
 * implicit one does), plaintext ({@code starttls-optional}: connect now), goodbye, or a broken bound.
 */
public final class StartHandler extends ChannelInboundHandlerAdapter implements PreTlsListener {

    /**
     * Bytes a client may send before its session is relayed (while its server connects or it
     * waits in the queue): mail clients wait for the greeting, so this is generous.
     */
    private static final int MAX_EARLY_BYTES = 64 * 1024;

    private final Session session;
    /** What a trusted PROXY header said, or null on a frontend without accept-proxy. */
    private final InboundAddresses inbound;
    private final Queue<ByteBuf> early = new ArrayDeque<>();
    private int earlyBytes;
    private String sniHostName;
    private ChannelHandlerContext ctx;
    private boolean begun;
    /** What the server is sent before the client's bytes (LMTP: the LHLO the client said before going on in plaintext). */
    private String serverPreamble;

    public StartHandler(Session session, InboundAddresses inbound) {
        this.session = session;
        this.inbound = inbound;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        // Behind a PROXY header this handler is added to a channel that is long active, so the
        // session begins now; otherwise it begins with channelActive, as the channel comes up.
        if (ctx.channel().isActive()) {
            begin();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        begin();
        ctx.fireChannelActive();
    }

    private void begin() {
        if (begun) {
            return;
        }
        begun = true;
        if (inbound == null && !session.admitSource()) {
            return;
        }
        if (session.frontend().tls().implicit()) {
            session.expectTls();
        } else if (session.frontend().tls().mode().startTls()) {
            session.expectPreTls();
            ChannelHandlerContext preTls = ctx.pipeline().context(PreTlsHandler.class);
            if (preTls != null) {
                ((PreTlsHandler) preTls.handler()).greet(preTls);
            }
        } else {
            connect();
        }
    }

    // ---- the STARTTLS dialogue's outcome ----

    @Override
    public void upgrading(int discardedBytes) {
        session.startTlsSent(discardedBytes);
    }

    @Override
    public void stayingPlaintext(String preamble, int repliesToDrop) {
        serverPreamble = preamble;
        session.stayPlaintext(repliesToDrop);
        connect();
    }

    @Override
    public void loggedOut() {
        session.preTlsEnded(null);
    }

    @Override
    public void violated(String why) {
        session.preTlsEnded(why);
    }

    @Override
    public void refused(String verb) {
        session.refusedBeforeTls(verb);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SniCompletionEvent sni && sni.isSuccess()) {
            sniHostName = sni.hostname();
        } else if (evt instanceof SslHandshakeCompletionEvent done) {
            session.tlsDone(done.isSuccess() ? null : done.cause());
            if (done.isSuccess()) {
                SslHandler tls = ctx.pipeline().get(SslHandler.class);
                if (tls != null) {
                    session.tlsEstablished(tls.engine().getSession().getProtocol(),
                            TlsResumption.resumed(tls.engine(), session.acceptedAtMillis()));
                }
                connect();
            }
        } else if (evt instanceof ChannelInputShutdownEvent) {
            session.clientFinBeforeRelay(earlyBytes > 0);
        }
        ReferenceCountUtil.release(evt);
    }

    private void connect() {
        if (session.phase().compareTo(Session.Phase.CONNECTING) >= 0) {
            return;
        }
        // The client is still read while its server is sought (a leaving client frees its place at
        // once); mail clients send nothing before the greeting, and early bytes are bounded.
        Channel client = ctx.channel();
        SslHandler tls = client.pipeline().get(SslHandler.class);
        FrontendSettings frontend = session.frontend();
        InetSocketAddress destination = inbound != null ? inbound.destination() : (InetSocketAddress) client.localAddress();
        // A plaintext frontend behind a balancer that terminated TLS may pass on what that
        // balancer saw (accept-proxy.forward-ssl); a frontend with its own TLS describes its own.
        boolean forward = tls == null && inbound != null && frontend.acceptProxy().forwardSsl();
        SslTlv forwardedSsl = forward ? inbound.header().ssl().orElse(null) : null;
        String authority = sniHostName != null || !forward ? sniHostName : inbound.header().authority().orElse(null);
        BackendSettings backend = session.backend().settings();
        session.connect(this, () -> OutboundProxyHeader.encode(backend.sendProxy(), backend.proxyV2Options(),
                new OutboundProxyHeader.ClientSide(session.clientAddress(), destination, tls, authority, forwardedSsl,
                        frontend.protocol().configName(),
                        backend.proxyV2Options().contains(ProxyV2Option.UNIQUE_ID) ? session.uniqueId() : null),
                client.alloc()));
    }

    /**
     * The server is connected (and greeted, its greeting already written to the client): pass on
     * what the client sent meanwhile (and its FIN), then put the idle timer and the relay in place.
     */
    void relay(Channel server, ChannelHandler idle, ChannelHandler relay, boolean clientFin) {
        Channel client = ctx.channel();
        if (serverPreamble != null) {
            server.write(Unpooled.copiedBuffer(serverPreamble, StandardCharsets.US_ASCII), server.voidPromise());
        }
        ByteBuf b;
        while ((b = early.poll()) != null) {
            session.earlyFromClient(b);
            server.write(b, server.voidPromise());
        }
        server.flush();
        client.flush();
        if (clientFin) {
            RelayHandler.shutdownOutputAfterWrites((DuplexChannel) server);
        }
        ctx.pipeline().addBefore(PipelineNames.START, PipelineNames.IDLE, idle);
        ctx.pipeline().replace(this, PipelineNames.RELAY, relay);
        RelayHandler.setReading(server, true);
        RelayHandler.setReading(client, true);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf && session.phase() != Session.Phase.CLOSING && session.phase() != Session.Phase.ENDED) {
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
        session.clientGone();
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
        session.clientFailed(cause);
    }
}
