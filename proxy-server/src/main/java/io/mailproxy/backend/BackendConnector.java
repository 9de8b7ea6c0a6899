package io.mailproxy.backend;

import io.mailproxy.tls.ClientTls;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Starts {@link Dispatch}es: what every connection to a server shares (the socket implementation,
 * the outbound buffer bounds, each backend's TLS client context).
 */
public final class BackendConnector {

    private final Class<? extends SocketChannel> socketChannel;
    private final WriteBufferWaterMark waterMark;
    /** Replaced whole by a reload; read when a session connects. */
    private volatile Map<String, ClientTls> tlsByBackend;

    public BackendConnector(Class<? extends SocketChannel> socketChannel, WriteBufferWaterMark waterMark) {
        this(socketChannel, waterMark, Map.of());
    }

    /** @param tlsByBackend the TLS client context of each backend with {@code tls-to-server} enabled, by name */
    public BackendConnector(Class<? extends SocketChannel> socketChannel, WriteBufferWaterMark waterMark,
                            Map<String, ClientTls> tlsByBackend) {
        this.socketChannel = socketChannel;
        this.waterMark = waterMark;
        this.tlsByBackend = Map.copyOf(tlsByBackend);
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

    /** A reload changed the backends' TLS: connections from now on use {@code tlsByBackend}. */
    public void clientTls(Map<String, ClientTls> tlsByBackend) {
        this.tlsByBackend = Map.copyOf(tlsByBackend);
    }

    /** The TLS to {@code backend}'s servers, or null when it speaks plaintext to them. */
    ClientTls clientTls(Backend backend) {
        return tlsByBackend.get(backend.name());
    }
}
