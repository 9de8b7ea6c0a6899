package io.mailproxy;

import io.mailproxy.config.IoTransport;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/** The socket implementation the event loops and channels use. */
public record Transport(String name, IoHandlerFactory ioHandlerFactory,
                        Class<? extends ServerChannel> serverChannel, Class<? extends SocketChannel> socketChannel) {

    /**
     * The transport a setting asks for.
     *
     * @throws IllegalStateException when epoll is asked for and its native library cannot be loaded
     */
    public static Transport of(IoTransport setting) {
        return switch (setting) {
            case NIO -> nio();
            case EPOLL -> {
                if (!Epoll.isAvailable()) {
                    throw new IllegalStateException("io-transport = epoll, but Netty's epoll transport cannot be loaded: "
                            + Epoll.unavailabilityCause());
                }
                yield new Transport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class, EpollSocketChannel.class);
            }
        };
    }

    public static Transport nio() {
        return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class);
    }
}
