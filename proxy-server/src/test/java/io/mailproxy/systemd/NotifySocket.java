package io.mailproxy.systemd;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The service manager's end of {@code $NOTIFY_SOCKET} for tests: an AF_UNIX datagram socket that
 * keeps every message it receives, as systemd's {@code /run/systemd/notify} does.
 */
public final class NotifySocket implements AutoCloseable {

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    private final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
    private final Channel channel;
    private final String name;

    private NotifySocket(String name, String address) {
        this.name = name;
        channel = new Bootstrap().group(group).channel(EpollDomainDatagramChannel.class)
                .handler(new SimpleChannelInboundHandler<DomainDatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DomainDatagramPacket packet) {
                        messages.add(packet.content().toString(StandardCharsets.UTF_8));
                    }
                })
                .bind(new DomainSocketAddress(address)).syncUninterruptibly().channel();
    }

    /** A socket at {@code path} (which must not exist yet). */
    public static NotifySocket at(Path path) {
        return new NotifySocket(path.toString(), path.toString());
    }

    /** An abstract socket, named {@code @name} in {@code $NOTIFY_SOCKET}. */
    public static NotifySocket abstractNamed(String name) {
        return new NotifySocket("@" + name, "\0" + name);
    }

    /** The value for {@code $NOTIFY_SOCKET}. */
    public String name() {
        return name;
    }

    /** The next message, or null when none arrives within {@code timeout}. */
    public String next(Duration timeout) throws InterruptedException {
        return messages.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The messages received and not yet taken. */
    public List<String> pending() {
        return List.copyOf(messages);
    }

    @Override
    public void close() throws Exception {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        if (!name.startsWith("@")) {
            Files.deleteIfExists(Path.of(name));
        }
    }
}
