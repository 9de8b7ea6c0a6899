package io.mailproxy.relay;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.handler.timeout.IdleStateEvent;

/**
 * What a {@link RelayHandler} reports to the session it relays for. The session decides what each
 * event means (how it ends, what is logged); the handler only moves bytes.
 *
 * <p>Every call comes on the session's event loop.
 */
public interface RelaySession {

    /** The channel on the other side of {@code side}, or null when there is none (yet). */
    Channel peer(Side side);

    /** {@code side} sent {@code buf}, which is about to be written to the other side (not consumed). */
    void relayed(Side side, ByteBuf buf);

    /** {@code side} shut down its output (TCP FIN). */
    void inputShutdown(Side side);

    /** {@code side}'s idle or stall timer fired. */
    void idle(Side side, IdleStateEvent event);

    /** {@code side}'s channel is closed. */
    void closed(Side side);

    /** {@code side}'s channel failed (a reset, a TLS error). */
    void failed(Side side, Throwable cause);
}
