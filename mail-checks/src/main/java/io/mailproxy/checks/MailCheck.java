package io.mailproxy.checks;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.ReflectiveChannelFactory;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.Objects;
import javax.net.ssl.SSLException;

/**
 * The real {@link Checker}: one short, non-blocking connection per check on the caller's event
 * loop, timed by that loop's timers (no thread per check). See {@link CheckType} for each
 * conversation and {@link CheckStatus} for what each failure is reported as.
 *
 * <p>Thread-safe and reusable: create one per process (the TLS context is costly) and share it.
 */
public final class MailCheck implements Checker {

    /**
     * Longest reply line accepted, in bytes. Dovecot's longest greeting/CAPABILITY lines are a few
     * hundred bytes; a longer line means something that is not the mail server, and is L7RSP.
     */
    public static final int MAX_LINE_LENGTH = 4096;

    private final ChannelFactory<? extends Channel> channelFactory;
    private final SslContext clientTls;

    /** A checker using {@code channelType} (e.g. {@code NioSocketChannel.class}) and a trust-all TLS context. */
    public MailCheck(Class<? extends Channel> channelType) {
        this(channelType, insecureClientContext());
    }

    /** A checker using {@code channelType} and the given client TLS context for {@code tls} checks. */
    public MailCheck(Class<? extends Channel> channelType, SslContext clientTls) {
        this.channelFactory = new ReflectiveChannelFactory<>(Objects.requireNonNull(channelType, "channelType"));
        this.clientTls = Objects.requireNonNull(clientTls, "clientTls");
    }

    /**
     * A client TLS context that accepts any certificate: a check asks whether the server is alive,
     * not who it is (the relay's own TLS settings decide trust for traffic).
     */
    public static SslContext insecureClientContext() {
        try {
            return SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE).build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot create the TLS client context for checks", e);
        }
    }

    @Override
    public Future<CheckResult> run(EventLoop loop, CheckSpec spec) {
        Promise<CheckResult> promise = loop.newPromise();
        if (loop.inEventLoop()) {
            start(loop, spec, promise);
        } else {
            loop.execute(() -> start(loop, spec, promise));
        }
        return promise;
    }

    private void start(EventLoop loop, CheckSpec spec, Promise<CheckResult> promise) {
        try {
            CheckHandler handler = new CheckHandler(spec, loop, promise, ch -> tlsHandler(ch, spec));
            Bootstrap bootstrap = new Bootstrap()
                    .group(loop)
                    .channelFactory(channelFactory)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
                            spec.timeout().toMillis()))
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            initPipeline(ch, spec, handler);
                        }
                    });
            ChannelFuture connect = bootstrap.connect(spec.target());
            handler.watch(connect);
        } catch (RuntimeException e) {
            // a check must end in a result, whatever went wrong while setting it up
            promise.trySuccess(CheckResult.of(CheckStatus.SOCKERR, 0, 0, e.toString()));
        }
    }

    private void initPipeline(Channel ch, CheckSpec spec, CheckHandler handler) {
        ChannelPipeline pipeline = ch.pipeline();
        ProxyHeaders.install(pipeline, spec.sendProxy());
        if (spec.tls().mode() == CheckTls.Mode.IMPLICIT) {
            pipeline.addLast(CheckPipeline.TLS, tlsHandler(ch, spec));
        }
        if (spec.type() != CheckType.TCP) {
            pipeline.addLast(CheckPipeline.LINES, new Lines(MAX_LINE_LENGTH));
        }
        pipeline.addLast(CheckPipeline.CHECK, handler);
    }

    /** The TLS client side of one check: the spec's context (and SNI), or this checker's trust-all one. */
    private SslHandler tlsHandler(Channel ch, CheckSpec spec) {
        CheckTls tls = spec.tls();
        SslHandler handler;
        if (tls.context() == null) {
            handler = clientTls.newHandler(ch.alloc(), spec.target().getHostString(), spec.target().getPort());
        } else if (tls.serverName() != null) {
            handler = tls.context().newHandler(ch.alloc(), tls.serverName(), spec.target().getPort());
        } else {
            handler = tls.context().newHandler(ch.alloc());
        }
        // the check's own timer bounds the handshake and reports it as L6TOUT
        handler.setHandshakeTimeoutMillis(0);
        return handler;
    }

    /**
     * Reply lines; tells whether bytes wait behind the last line, which after a STARTTLS reply
     * would be plaintext pretending to come through TLS (the CVE-2011-0411 class, seen from the
     * client's side) and fail the check.
     */
    static final class Lines extends LineBasedFrameDecoder {
        Lines(int maxLength) {
            super(maxLength, true, true);
        }

        boolean hasUnreadBytes() {
            return actualReadableBytes() > 0;
        }
    }
}
