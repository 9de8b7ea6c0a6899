package io.mailproxy.log;

import io.mailproxy.config.HostPort;
import io.mailproxy.config.LogSettings;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Sends each log line as one syslog datagram, as HAProxy's {@code log} does: over UDP to
 * {@code host:port}, or to a local unix datagram socket ({@code /dev/log}). Only the log writer
 * thread sends, so a blocked send never holds up a session; a line that cannot be sent (no daemon
 * listening) is counted as dropped by the writer.
 */
final class SyslogSink implements AsyncLineHandler.Sink, AutoCloseable {

    /** RFC 5426 asks receivers to take 480 bytes at least and 2048 should; HAProxy's default is 1024. */
    static final int MAX_LINE_BYTES = 2048;

    private final DatagramSocket udp;
    private final InetSocketAddress udpTarget;
    private final EventLoopGroup unixGroup;
    private final Channel unix;
    private final DomainSocketAddress unixTarget;

    private SyslogSink(DatagramSocket udp, InetSocketAddress udpTarget, EventLoopGroup unixGroup, Channel unix,
                       DomainSocketAddress unixTarget) {
        this.udp = udp;
        this.udpTarget = udpTarget;
        this.unixGroup = unixGroup;
        this.unix = unix;
        this.unixTarget = unixTarget;
    }

    /** A sink to {@code settings.address()}. */
    static SyslogSink open(LogSettings settings) throws IOException {
        String address = settings.address();
        if (address.startsWith("/")) {
            if (!Epoll.isAvailable()) {
                throw new IOException("syslog to a unix socket needs Netty's epoll transport: " + Epoll.unavailabilityCause());
            }
            EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
            ChannelFuture f = new Bootstrap().group(group).channel(EpollDomainDatagramChannel.class)
                    // never bound nor connected: it only sends, to the address each packet names
                    .option(ChannelOption.DATAGRAM_CHANNEL_ACTIVE_ON_REGISTRATION, true)
                    .handler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            ReferenceCountUtil.release(msg);
                        }
                    })
                    .register().awaitUninterruptibly();
            if (!f.isSuccess()) {
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
                throw new IOException("cannot open a unix datagram socket: " + f.cause().getMessage());
            }
            return new SyslogSink(null, null, group, f.channel(), new DomainSocketAddress(address));
        }
        HostPort hp = HostPort.parse(address);
        return new SyslogSink(new DatagramSocket(), hp.resolve(), null, null, null);
    }

    @Override
    public void write(String line) throws IOException {
        byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
        int length = Math.min(bytes.length, MAX_LINE_BYTES);
        if (udp != null) {
            udp.send(new DatagramPacket(bytes, length, udpTarget));
            return;
        }
        ChannelFuture sent = unix.writeAndFlush(new DomainDatagramPacket(Unpooled.wrappedBuffer(bytes, 0, length), unixTarget));
        // The writer thread waits for the send, so datagrams go out one by one and a failure is seen.
        if (!sent.awaitUninterruptibly(1, TimeUnit.SECONDS) || !sent.isSuccess()) {
            throw new IOException("cannot send to " + unixTarget.path() + ": " + sent.cause());
        }
    }

    @Override
    public void close() {
        if (udp != null) {
            udp.close();
        }
        if (unix != null) {
            unix.close().awaitUninterruptibly();
            unixGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
