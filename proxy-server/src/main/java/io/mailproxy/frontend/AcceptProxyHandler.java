package io.mailproxy.frontend;

import io.mailproxy.log.Reasons;
import io.mailproxy.log.Termination;
import io.mailproxy.proxyprotocol.ProxyHeader;
import io.mailproxy.proxyprotocol.ProxyProtocolDecoder;
import io.mailproxy.proxyprotocol.ProxyProtocolError;
import io.mailproxy.proxyprotocol.ProxyProtocolException;
import io.mailproxy.session.InboundAddresses;
import io.mailproxy.session.Session;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;

/**
 * Sits behind the {@link ProxyProtocolDecoder} of an accept-proxy frontend and tells the session
 * what the connection becomes: on a header, the session's handlers are added behind it (so TLS and
 * the session start only now) and it removes itself; the decoder then hands any bytes that followed
 * the header to them. An invalid or truncated header, or a close before the first byte, ends the
 * session with the PRX_* code in the detail. The header's timeout is the session's.
 */
final class AcceptProxyHandler extends ChannelInboundHandlerAdapter {

    /** What happens once a header is in. */
    interface Accepted {
        void accepted(ChannelPipeline pipeline, Session session, InboundAddresses addresses);
    }

    private final Session session;
    private final Accepted accepted;
    private boolean done;

    AcceptProxyHandler(Session session, Accepted accepted) {
        this.session = session;
        this.accepted = accepted;
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
        InboundAddresses addresses = InboundAddresses.of(header,
                (InetSocketAddress) ctx.channel().remoteAddress(), (InetSocketAddress) ctx.channel().localAddress());
        accepted.accepted(ctx.pipeline(), session, addresses);
        ctx.pipeline().remove(this);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!done) {
            done = true;
            if (cause instanceof ProxyProtocolException e) {
                Termination t = switch (e.error()) {
                    case PRX_EMPTY -> Termination.PROXY_EMPTY;
                    case PRX_TRUNCATED -> Termination.PROXY_TRUNCATED;
                    default -> Termination.PROXY_INVALID;
                };
                session.headerFailed(t, e.error().code() + ": " + e.detail());
            } else {
                session.headerFailed(Termination.CLIENT_ABORT, Reasons.of(cause));
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
                    done = true;
                    session.headerFailed(Termination.PROXY_TRUNCATED,
                            ProxyProtocolError.PRX_TRUNCATED.code() + ": connection closed");
                }
            });
        }
        ctx.fireChannelInactive();
    }
}
