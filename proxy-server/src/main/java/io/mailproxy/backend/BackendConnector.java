package io.mailproxy.backend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import java.net.InetSocketAddress;
import java.util.function.Supplier;

/**
 * Starts {@link Dispatch}es: what every connection to a server shares (the socket implementation,
 * the outbound buffer bounds).
 */
public final class BackendConnector {

    private final Class<? extends SocketChannel> socketChannel;
    private final WriteBufferWaterMark waterMark;

    public BackendConnector(Class<? extends SocketChannel> socketChannel, WriteBufferWaterMark waterMark) {
        this.socketChannel = socketChannel;
        this.waterMark = waterMark;
    }

    /**
     * Starts finding a server of {@code backend} for a session from {@code client} whose channel is
     * on {@code loop}; the server channel is registered on that loop too. {@code header} makes the
     * PROXY header (or null) for each attempt.
     */
    public Dispatch dispatch(Backend backend, EventLoop loop, InetSocketAddress client, Supplier<ByteBuf> header) {
        Dispatch d = new Dispatch(this, backend, loop, client, header);
        d.start();
        return d;
    }

    Class<? extends SocketChannel> socketChannel() {
        return socketChannel;
    }

    WriteBufferWaterMark waterMark() {
        return waterMark;
    }
}
