package io.mailproxy.bench;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * Bulk throughput: N connections that write 64 KiB buffers as fast as the path takes them
 * ({@code up}, to a {@code sink}), read as fast as a {@code source} sends ({@code down}), or both
 * at once through an {@code echo} ({@code both}).
 *
 * <p>Bytes up are counted when the socket accepted them (write completed), bytes down when read.
 * Both are counted over the measurement window only, after a warm-up, so the megabytes sitting in
 * socket and proxy buffers (constant in steady state) do not inflate the rate.
 */
final class Throughput {

    private Throughput() {
    }

    static Json run(Options o) throws InterruptedException {
        InetSocketAddress target = Net.target(o);
        Net.ClientTls tls = Net.clientTls(o, false);
        int connections = o.integer("connections", 16);
        double seconds = o.decimal("seconds", 10);
        double warmup = o.decimal("warmup-seconds", 1);
        String direction = o.string("direction", "up");
        if (!List.of("up", "down", "both").contains(direction)) {
            throw new Options.UsageException("--direction must be up, down or both, not \"" + direction + "\"");
        }
        boolean send = !direction.equals("down");
        try (Net net = new Net(o)) {
            o.checkAllUsed();
            LongAdder up = new LongAdder();
            LongAdder down = new LongAdder();
            AtomicInteger errors = new AtomicInteger();
            AtomicReference<String> firstError = new AtomicReference<>();
            AtomicReference<Json> tlsInfo = new AtomicReference<>();
            CountDownLatch ready = new CountDownLatch(connections);
            ChannelFutureListener written = f -> {
                if (f.isSuccess()) {
                    up.add(Backends.Payload.SIZE);
                }
            };
            var bootstrap = net.client()
                    .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 * 1024, 512 * 1024))
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            if (tls != null) {
                                SslHandler ssl = tls.fresh(ch);
                                ch.pipeline().addLast("tls", ssl);
                            }
                            ch.pipeline().addLast("load", new Load(send, written, down, errors, firstError, ready, tlsInfo, tls));
                        }
                    });
            List<Channel> channels = new ArrayList<>();
            for (int i = 0; i < connections; i++) {
                ChannelFuture f = bootstrap.connect(target);
                channels.add(f.channel());
                f.addListener(c -> {
                    if (!c.isSuccess()) {
                        error(errors, firstError, c.cause());
                        ready.countDown();
                    }
                });
            }
            if (!ready.await(30, TimeUnit.SECONDS)) {
                error(errors, firstError, new IllegalStateException(ready.getCount() + " connections not ready after 30 s"));
            }
            System.err.printf("loadgen throughput: %d connections to %s (%s%s), %s; warm-up %.1f s, measuring %.1f s%n",
                    connections, target, net.transport, tls == null ? "" : ", TLS", direction, warmup, seconds);
            LoadGen.sleep(warmup);
            int errorsBefore = errors.get();
            long up0 = up.sum();
            long down0 = down.sum();
            long[] cpu0 = net.cpu();
            long t0 = System.nanoTime();
            LoadGen.sleep(seconds);
            long up1 = up.sum();
            long down1 = down.sum();
            long[] cpu1 = net.cpu();
            long wall = System.nanoTime() - t0;
            int open = 0;
            for (Channel ch : channels) {
                if (ch.isActive()) {
                    open++;
                }
            }
            for (Channel ch : channels) {
                ch.attr(CLOSING).set(true);
            }
            Net.closeAll(channels, 10);
            double secs = wall / 1e9;
            Json out = new Json().put("mode", "throughput").put("target", target.getHostString() + ":" + target.getPort())
                    .put("transport", net.transport).put("tls", tlsInfo.get()).put("direction", direction)
                    .put("connections", connections).put("open_at_end", open).put("seconds", secs)
                    .put("up_mb_s", (up1 - up0) / secs / 1e6).put("down_mb_s", (down1 - down0) / secs / 1e6)
                    .put("up_bytes", up1 - up0).put("down_bytes", down1 - down0)
                    .put("errors", errors.get()).put("errors_in_window", errors.get() - errorsBefore)
                    .put("first_error", firstError.get());
            List<String> limits = new ArrayList<>();
            boolean limited = net.reportCpu(cpu0, cpu1, wall, out, limits);
            out.put("loadgen_limited", limited).put("limits", limits);
            System.err.printf("loadgen throughput: up %.1f MB/s, down %.1f MB/s, errors %d%s%n",
                    (up1 - up0) / secs / 1e6, (down1 - down0) / secs / 1e6, errors.get(), limited ? " (GENERATOR-LIMITED)" : "");
            return out;
        }
    }

    static void error(AtomicInteger errors, AtomicReference<String> first, Throwable cause) {
        errors.incrementAndGet();
        first.compareAndSet(null, String.valueOf(cause));
    }

    /** One connection: writes while writable (when sending), counts and drops what it reads. */
    private static final class Load extends ChannelInboundHandlerAdapter {
        private final boolean send;
        private final ChannelFutureListener written;
        private final LongAdder down;
        private final AtomicInteger errors;
        private final AtomicReference<String> firstError;
        private final CountDownLatch ready;
        private final AtomicReference<Json> tlsInfo;
        private final Net.ClientTls tls;
        private boolean started;

        Load(boolean send, ChannelFutureListener written, LongAdder down, AtomicInteger errors,
             AtomicReference<String> firstError, CountDownLatch ready, AtomicReference<Json> tlsInfo, Net.ClientTls tls) {
            this.send = send;
            this.written = written;
            this.down = down;
            this.errors = errors;
            this.firstError = firstError;
            this.ready = ready;
            this.tlsInfo = tlsInfo;
            this.tls = tls;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            SslHandler ssl = ctx.pipeline().get(SslHandler.class);
            if (ssl == null) {
                start(ctx);
            } else {
                ssl.handshakeFuture().addListener((Future<Channel> f) -> {
                    if (f.isSuccess()) {
                        tlsInfo.compareAndSet(null, tls.describe(ssl.engine().getSession()));
                        start(ctx);
                    } else {
                        error(errors, firstError, f.cause());
                        ready.countDown();
                        ctx.close();
                    }
                });
            }
            ctx.fireChannelActive();
        }

        private void start(ChannelHandlerContext ctx) {
            started = true;
            ready.countDown();
            if (send) {
                Backends.Payload.fill(ctx.channel(), written);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (started && send && ctx.channel().isWritable()) {
                Backends.Payload.fill(ctx.channel(), written);
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf b) {
                down.add(b.readableBytes());
            }
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            // Closed by the far side while we were still running: the proxy or backend dropped us.
            if (started && !ctx.channel().hasAttr(CLOSING)) {
                error(errors, firstError, new IllegalStateException("connection closed by the peer"));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            error(errors, firstError, cause);
            ctx.close();
        }
    }

    private static final io.netty.util.AttributeKey<Boolean> CLOSING = io.netty.util.AttributeKey.valueOf("loadgen.closing");
}
