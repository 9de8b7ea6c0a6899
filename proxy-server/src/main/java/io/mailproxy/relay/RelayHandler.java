package io.mailproxy.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;

/**
 * Copies what one side reads to the other side, with backpressure: when the other side's outbound
 * buffer passes its high water mark, that side's writability event turns reading off here, and on
 * again below the low mark. Writes are flushed once per read batch, not per buffer. What the events
 * mean (FIN, close, error, idle) is the {@link RelaySession}'s to decide.
 */
public final class RelayHandler extends ChannelInboundHandlerAdapter {

    private final RelaySession session;
    private final Side side;

    public RelayHandler(RelaySession session, Side side) {
        this.session = session;
        this.side = side;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Channel peer = session.peer(side);
        if (!(msg instanceof ByteBuf buf) || peer == null || !peer.isActive()) {
            ReferenceCountUtil.release(msg);
            return;
        }
        session.relayed(side, buf);
        peer.write(buf, peer.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        Channel peer = session.peer(side);
        if (peer != null) {
            peer.flush();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Channel peer = session.peer(side);
        if (peer != null) {
            setReading(peer, ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            session.inputShutdown(side);
        } else if (evt instanceof IdleStateEvent idle) {
            session.idle(side, idle);
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        session.closed(side);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        session.failed(side, cause);
    }

    /**
     * Passes a FIN on once everything written before it has left: shutting the output down at once
     * would fail the writes still queued in the channel.
     */
    public static void shutdownOutputAfterWrites(DuplexChannel channel) {
        channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(written -> {
            if (written.isSuccess()) {
                channel.shutdownOutput();
            }
        });
    }

    /**
     * Turns reading on or off, except on a channel whose input is already shut down: there is
     * nothing left to read, and epoll refuses to change the interest set of such a socket.
     */
    public static void setReading(Channel ch, boolean on) {
        if (ch instanceof DuplexChannel duplex && duplex.isInputShutdown()) {
            return;
        }
        ch.config().setAutoRead(on);
    }

    /** Bytes written to {@code ch} and not yet taken by the socket; 0 for a closed channel. */
    public static long pendingBytes(Channel ch) {
        ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
        return out == null ? 0 : out.totalPendingWriteBytes();
    }
}
