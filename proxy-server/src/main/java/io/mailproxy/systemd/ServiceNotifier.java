package io.mailproxy.systemd;

import io.mailproxy.log.Reasons;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.FileNotFoundException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Tells the service manager how the process is doing, by systemd's notification protocol
 * (sd_notify(3)): one datagram of {@code KEY=value} lines to the AF_UNIX socket that
 * {@code $NOTIFY_SOCKET} names. Under the unit's {@code Type=notify}, systemd counts mailproxy as
 * started when {@code READY=1} arrives, once every listener is bound, not when the JVM was started;
 * {@code STOPPING=1} says that a stop is under way.
 *
 * <p>The datagram leaves from this process, the unit's main process, so the default
 * {@code NotifyAccess=main} accepts it and no helper process is forked. The JDK has no AF_UNIX
 * datagram sockets (JDK 16 added stream sockets only); Netty's epoll transport sends it. Without
 * {@code $NOTIFY_SOCKET} (run by hand, in a container) every call does nothing; a message that
 * cannot be sent is logged as a warning and never stops mailproxy.
 */
public final class ServiceNotifier {

    /** The environment variable systemd sets for a {@code Type=notify} service. */
    public static final String VARIABLE = "NOTIFY_SOCKET";

    private static final Logger LOG = Logger.getLogger(ServiceNotifier.class.getName());
    /** A local datagram is sent at once or fails at once; this bounds a stuck event loop only. */
    private static final long SEND_TIMEOUT_SECONDS = 5;

    /** The socket's address as the kernel takes it (abstract ones start with NUL), or null. */
    private final String address;
    /** The socket as {@code $NOTIFY_SOCKET} named it, for messages. */
    private final String socket;

    private ServiceNotifier(String socket, String address) {
        this.socket = socket;
        this.address = address;
    }

    /** A notifier for the socket in {@code $NOTIFY_SOCKET}, or one that does nothing. */
    public static ServiceNotifier fromEnvironment() {
        return of(System.getenv(VARIABLE));
    }

    /**
     * A notifier for {@code socket}: an absolute path, or {@code @name} for an abstract socket (as
     * systemd writes it); null or empty for none. Anything else is reported once and ignored.
     */
    public static ServiceNotifier of(String socket) {
        if (socket == null || socket.isEmpty()) {
            return new ServiceNotifier(null, null);
        }
        if (socket.startsWith("@")) {
            return new ServiceNotifier(socket, "\0" + socket.substring(1));
        }
        if (socket.startsWith("/")) {
            return new ServiceNotifier(socket, socket);
        }
        LOG.warning(() -> VARIABLE + "=" + socket + " is neither an absolute path nor an abstract socket (@name):"
                + " the service manager will not hear from mailproxy");
        return new ServiceNotifier(socket, null);
    }

    /** Whether there is a service manager to tell. */
    public boolean enabled() {
        return address != null;
    }

    /** {@code READY=1}: every listener is bound and sessions are taken. */
    public boolean ready(String status) {
        return send("READY=1\nSTATUS=" + oneLine(status));
    }

    /**
     * {@code RELOADING=1}: a reload began; {@link #ready} follows when it is done (systemd's
     * {@code Type=notify-reload} waits for it; {@code MONOTONIC_USEC} as it asks).
     */
    public boolean reloading(String status) {
        long micros = java.util.concurrent.TimeUnit.NANOSECONDS.toMicros(System.nanoTime());
        return send("RELOADING=1\nSTATUS=" + oneLine(status) + "\nMONOTONIC_USEC=" + micros);
    }

    /** {@code STOPPING=1}: the listeners are about to close and sessions to end. */
    public boolean stopping(String status) {
        return send("STOPPING=1\nSTATUS=" + oneLine(status));
    }

    /**
     * Sends one message; true when the datagram was sent (not that systemd read it: the protocol
     * has no reply).
     */
    boolean send(String message) {
        if (address == null) {
            return false;
        }
        if (!Epoll.isAvailable()) {
            LOG.warning(() -> "cannot tell the service manager " + firstLine(message) + ": Netty's epoll transport,"
                    + " which sends to " + VARIABLE + ", cannot be loaded here (" + Epoll.unavailabilityCause()
                    + "); run the unit with Type=exec instead of Type=notify");
            return false;
        }
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            // Unbound and unconnected: a datagram socket that is active once registered can sendto().
            ChannelFuture registered = new Bootstrap().group(group).channel(EpollDomainDatagramChannel.class)
                    .option(ChannelOption.DATAGRAM_CHANNEL_ACTIVE_ON_REGISTRATION, true)
                    .handler(new ChannelInboundHandlerAdapter())
                    .register();
            if (!registered.awaitUninterruptibly(SEND_TIMEOUT_SECONDS, TimeUnit.SECONDS) || !registered.isSuccess()) {
                return failed(message, registered);
            }
            Channel channel = registered.channel();
            ChannelFuture sent = channel.writeAndFlush(new DomainDatagramPacket(
                    Unpooled.copiedBuffer(message, StandardCharsets.UTF_8), new DomainSocketAddress(address)));
            boolean done = sent.awaitUninterruptibly(SEND_TIMEOUT_SECONDS, TimeUnit.SECONDS) && sent.isSuccess();
            channel.close().awaitUninterruptibly(SEND_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            return done || failed(message, sent);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(SEND_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
    }

    private boolean failed(String message, ChannelFuture future) {
        Throwable cause = future.cause();
        // Netty's native sendto() reports ENOENT as a FileNotFoundException without a message.
        String why = cause == null ? "no answer within " + SEND_TIMEOUT_SECONDS + " s"
                : cause instanceof FileNotFoundException ? "no such socket" : Reasons.of(cause);
        LOG.warning(() -> "cannot tell the service manager " + firstLine(message) + " through " + socket + ": " + why);
        return false;
    }

    private static String firstLine(String message) {
        int end = message.indexOf('\n');
        return end < 0 ? message : message.substring(0, end);
    }

    /** A value must not break the message's line structure. */
    private static String oneLine(String text) {
        return text.replace('\n', ' ');
    }
}
