package io.mailproxy.frontend;

import io.mailproxy.backend.BackendConnector;
import io.mailproxy.backend.OutboundProxyHeader;
import io.mailproxy.log.Termination;
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
    private final Queue<ByteBuf> early = new ArrayDeque<>();
    private Session session;
    private String sniHostName;
    private boolean started;
    private boolean clientInputShut;

    StartHandler(Frontend frontend, BackendConnector connector) {
        this.frontend = frontend;
        this.connector = connector;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        session = frontend.newSession(ctx.channel());
        if (!frontend.settings().tls().enabled()) {
            start(ctx);
        }
        ctx.fireChannelActive();
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
            }
        }
        ReferenceCountUtil.release(evt);
    }

    private void start(ChannelHandlerContext ctx) {
        if (started || session.ended()) {
            return;
        }
        started = true;
        Channel client = ctx.channel();
        RelayHandler.setReading(client, false);
        SslHandler tls = client.pipeline().get(SslHandler.class);
        connector.connect(session,
                () -> OutboundProxyHeader.encode(frontend.backend().settings().sendProxy(), session.clientAddress(),
                        (InetSocketAddress) client.localAddress(), tls, sniHostName,
                        frontend.settings().protocol().configName(), client.alloc()),
                server -> relay(ctx, server),
                why -> session.refuse(frontend.settings().protocol().unavailableReply(), Termination.NO_SERVER, why));
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
            ((DuplexChannel) server).shutdownOutput();
        }
        ctx.pipeline().replace(this, PipelineNames.RELAY, new RelayHandler(session, Side.CLIENT));
        RelayHandler.setReading(server, true);
        RelayHandler.setReading(client, true);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf && !session.ended()) {
            early.add(buf);
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
