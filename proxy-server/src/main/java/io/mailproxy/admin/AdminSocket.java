package io.mailproxy.admin;

import io.mailproxy.config.AdminSocketSettings;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.string.StringDecoder;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The runtime API on a unix socket, as HAProxy's {@code stats socket}: a client sends one command
 * line (or several separated by {@code ;}), reads the answer and the connection closes; after
 * {@code prompt} it stays open, answering each line after a {@code "> "} prompt, until {@code quit}.
 *
 * <p>One event loop of its own (epoll: Netty's unix domain sockets need it), so a slow admin client
 * never holds up a session; a connection idle for {@link #IDLE_SECONDS} is closed. The socket file
 * gets its mode, owner and group from the configuration right after it is bound, and is removed on
 * close.
 */
public final class AdminSocket implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(AdminSocket.class.getName());

    /** HAProxy's CLI closes a connection idle for 10s by default ({@code stats timeout}). */
    static final int IDLE_SECONDS = 10;
    /** A command line longer than this is refused (HAProxy's is a buffer, 16 kB). */
    static final int MAX_LINE = 16 * 1024;

    private final EventLoopGroup group;
    private final Channel channel;
    private final Path path;

    private AdminSocket(EventLoopGroup group, Channel channel, Path path) {
        this.group = group;
        this.channel = channel;
        this.path = path;
    }

    /** Why the socket could not be opened, in a sentence. */
    public static final class CannotOpen extends Exception {
        private static final long serialVersionUID = 1L;

        CannotOpen(String message) {
            super(message, null, false, false);
        }
    }

    /** Binds the socket and sets its mode and owner. */
    public static AdminSocket open(AdminSocketSettings settings, AdminCommands commands) throws CannotOpen {
        if (!Epoll.isAvailable()) {
            throw new CannotOpen("the runtime API needs Netty's epoll transport (Linux): " + Epoll.unavailabilityCause());
        }
        Path path = settings.path();
        try {
            if (Files.exists(path) && !Files.isDirectory(path)) {
                // a socket left by a run that did not stop cleanly; a live one would be taken over, as HAProxy does
                Files.delete(path);
            }
        } catch (IOException e) {
            throw new CannotOpen("cannot remove the old socket file " + path + ": " + e.getMessage());
        }
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        var bound = new ServerBootstrap()
                .group(group)
                .channel(EpollServerDomainSocketChannel.class)
                // `echo cmd | socat` half-closes after its line: the answer must still go out whole
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new ReadTimeoutHandler(IDLE_SECONDS, TimeUnit.SECONDS),
                                new LineBasedFrameDecoder(MAX_LINE), new StringDecoder(StandardCharsets.UTF_8),
                                new CommandHandler(commands));
                    }
                })
                .bind(new DomainSocketAddress(path.toFile())).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new CannotOpen("cannot listen on " + path + ": " + bound.cause().getMessage());
        }
        try {
            Files.setPosixFilePermissions(path, settings.mode());
            PosixFileAttributeView attrs = Files.getFileAttributeView(path, PosixFileAttributeView.class);
            UserPrincipalLookupService users = FileSystems.getDefault().getUserPrincipalLookupService();
            if (settings.user() != null) {
                attrs.setOwner(users.lookupPrincipalByName(settings.user()));
            }
            if (settings.group() != null) {
                GroupPrincipal g = users.lookupPrincipalByGroupName(settings.group());
                attrs.setGroup(g);
            }
        } catch (IOException | RuntimeException e) {
            bound.channel().close().awaitUninterruptibly();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new CannotOpen("cannot set the mode, owner or group of " + path + ": " + e.getMessage());
        }
        LOG.info(() -> "runtime API listening on " + path);
        return new AdminSocket(group, bound.channel(), path);
    }

    public Path path() {
        return path;
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.warning(() -> "cannot remove " + path + ": " + e.getMessage());
        }
    }

    /** One client: its lines are commands; without {@code prompt}, the first line's answer ends the connection. */
    private static final class CommandHandler extends SimpleChannelInboundHandler<String> {
        private final AdminCommands commands;
        private boolean interactive;
        private boolean answered;

        CommandHandler(AdminCommands commands) {
            this.commands = commands;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent && (interactive || !answered)) {
                // the client is done: close once what was written is out
                ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, String line) {
            StringBuilder answer = new StringBuilder();
            boolean quit = false;
            for (String command : line.split(";")) {
                String c = command.trim();
                if (c.equals("prompt")) {
                    interactive = !interactive;
                } else if (c.equals("quit")) {
                    quit = true;
                    break;
                } else if (!c.isEmpty()) {
                    answer.append(commands.execute(c));
                }
            }
            if (interactive && !quit) {
                answer.append("> ");
            }
            answered = true;
            var written = ctx.writeAndFlush(Unpooled.copiedBuffer(answer, StandardCharsets.UTF_8));
            if (!interactive || quit) {
                written.addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // too long a line, an idle client, a reset: this client only
            ctx.close();
        }
    }
}
