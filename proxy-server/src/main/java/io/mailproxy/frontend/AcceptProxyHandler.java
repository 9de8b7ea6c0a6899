package io.mailproxy.frontend;

import io.mailproxy.config.AcceptProxySettings;
import io.mailproxy.log.Termination;
import io.mailproxy.proxyprotocol.ProxyHeader;
import io.mailproxy.proxyprotocol.ProxyProtocolDecoder;
import io.mailproxy.proxyprotocol.ProxyProtocolError;
import io.mailproxy.proxyprotocol.ProxyProtocolException;
import io.mailproxy.relay.Reasons;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * Sits behind the {@link ProxyProtocolDecoder} of an accept-proxy frontend and decides what the
 * connection becomes: on a header, the session's handlers are added behind it (so TLS and the
 * session start only now) and it removes itself; the decoder then hands any bytes that followed the
 * header to them. On a header timeout, an invalid or truncated header, or a close before the first
 * byte, the connection is closed and reported once, with the PRX_* code in the detail.
 *
 * <p>The timer starts when the connection becomes active, i.e. once the {@link TrustedPeerFilter}
 * has let it through; a rejected peer never reaches this handler.
 */
final class AcceptProxyHandler extends ChannelInboundHandlerAdapter {

    private final AcceptProxySettings settings;
    private final AcceptProxyEvents events;
    private final long acceptedAtMillis = System.currentTimeMillis();
    private final long acceptedAtNanos = System.nanoTime();
    private ScheduledFuture<?> timer;
    private boolean done;

    AcceptProxyHandler(AcceptProxySettings settings, AcceptProxyEvents events) {
        this.settings = settings;
        this.events = events;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (!done && timer == null) {
            timer = ctx.executor().schedule(() -> timedOut(ctx), settings.timeout().toMillis(), TimeUnit.MILLISECONDS);
        }
        ctx.fireChannelActive();
    }

    private void timedOut(ChannelHandlerContext ctx) {
        if (done || !ctx.channel().isOpen()) {
            return;
        }
        end(ctx, Termination.PROXY_TIMEOUT, ProxyProtocolError.PRX_TIMEOUT.code()
                + ": no complete PROXY header within " + settings.timeout().toMillis() + "ms");
        ctx.close();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ProxyHeader header) || done) {
            // Nothing but the header can arrive here: the decoder passes on bytes only after
            // firing it, and by then this handler is gone.
            ReferenceCountUtil.release(msg);
            return;
        }
        done = true;
        cancelTimer();
        InboundAddresses addresses = InboundAddresses.of(header,
                (InetSocketAddress) ctx.channel().remoteAddress(), (InetSocketAddress) ctx.channel().localAddress());
        events.accepted(ctx.pipeline(), addresses);
        ctx.pipeline().remove(this);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!done) {
            if (cause instanceof ProxyProtocolException e) {
                Termination t = switch (e.error()) {
                    case PRX_EMPTY -> Termination.PROXY_EMPTY;
                    case PRX_TRUNCATED -> Termination.PROXY_TRUNCATED;
                    default -> Termination.PROXY_INVALID;
                };
                end(ctx, t, e.error().code() + ": " + e.detail());
            } else {
                end(ctx, Termination.CLIENT_ABORT, Reasons.of(cause));
            }
        }
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        // The decoder reports a close before a whole header as PRX_EMPTY or PRX_TRUNCATED, but
        // through exceptionCaught right after it has passed channelInactive on: look only once that
        // is done, to catch what it could not see.
        if (!done) {
            ctx.executor().execute(() -> {
                if (!done) {
                    end(ctx, Termination.PROXY_TRUNCATED, ProxyProtocolError.PRX_TRUNCATED.code() + ": connection closed");
                }
            });
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelTimer();
    }

    private void end(ChannelHandlerContext ctx, Termination reason, String detail) {
        done = true;
        cancelTimer();
        events.refused((InetSocketAddress) ctx.channel().remoteAddress(), acceptedAtMillis,
                (System.nanoTime() - acceptedAtNanos) / 1_000_000, reason, detail);
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
