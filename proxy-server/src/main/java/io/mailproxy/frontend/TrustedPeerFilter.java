package io.mailproxy.frontend;

import io.mailproxy.config.AcceptProxySettings;
import io.mailproxy.log.Termination;
import io.mailproxy.session.Session;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;

/**
 * First handler of an accept-proxy frontend: a peer outside the trusted networks is closed when the
 * connection becomes active, before the first read is issued (the channel asks for its first read
 * only after {@code channelActive} has passed through the pipeline), so nothing is read or sent.
 * A trusted peer passes and the filter removes itself.
 *
 * <p>After a rejection the filter swallows every later inbound event, so the handlers behind it
 * (which never saw the connection become active) do not report it a second time.
 */
final class TrustedPeerFilter extends ChannelInboundHandlerAdapter {

    private final AcceptProxySettings settings;
    private final Session session;
    private boolean rejected;

    TrustedPeerFilter(AcceptProxySettings settings, Session session) {
        this.settings = settings;
        this.session = session;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        InetSocketAddress peer = (InetSocketAddress) ctx.channel().remoteAddress();
        if (settings.trusts(peer.getAddress())) {
            ctx.pipeline().remove(this);
            ctx.fireChannelActive();
            return;
        }
        rejected = true;
        session.headerFailed(Termination.UNTRUSTED_PEER,
                peer.getAddress().getHostAddress() + " is not in accept-proxy.trusted-networks");
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (rejected) {
            ReferenceCountUtil.release(msg);
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!rejected) {
            ctx.fireChannelInactive();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (rejected) {
            ReferenceCountUtil.release(evt);
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (rejected) {
            return;
        }
        ctx.fireExceptionCaught(cause);
    }
}
