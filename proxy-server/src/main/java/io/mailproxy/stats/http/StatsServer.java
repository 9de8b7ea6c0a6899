package io.mailproxy.stats.http;

import io.mailproxy.admin.ServerActions;
import io.mailproxy.config.StatsSettings;
import io.mailproxy.stats.report.ProxyView;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.util.concurrent.TimeUnit;

/**
 * The statistics listener: HTTP/1.1 through Netty's codec on the proxy's acceptor loop (a stats
 * request is small work that never blocks), serving {@link StatsHttpHandler}.
 */
public final class StatsServer implements AutoCloseable {

    /** A request body larger than this is refused (an admin form is a few hundred bytes). */
    static final int MAX_REQUEST = 64 * 1024;
    /** A connection that sends nothing for this long is closed. */
    static final int IDLE_SECONDS = 30;

    private final Channel channel;

    private StatsServer(Channel channel) {
        this.channel = channel;
    }

    /**
     * Binds {@code settings.bind()}; the returned future fails when it cannot.
     *
     * @param group the event loops to serve on
     */
    public static ChannelFuture bind(StatsSettings settings, ProxyView view, EventLoopGroup group,
                                     Class<? extends ServerChannel> channelType) {
        StatsAccess access = new StatsAccess(settings);
        ServerActions actions = new ServerActions(view);
        return new ServerBootstrap()
                .group(group)
                .channel(channelType)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new ReadTimeoutHandler(IDLE_SECONDS, TimeUnit.SECONDS),
                                new HttpServerCodec(), new HttpObjectAggregator(MAX_REQUEST),
                                new StatsHttpHandler(view, settings, access, actions));
                    }
                })
                .bind(settings.bind().address().resolve());
    }

    /** The server of a successful {@link #bind}. */
    public static StatsServer of(ChannelFuture bound) {
        return new StatsServer(bound.channel());
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly();
    }
}
