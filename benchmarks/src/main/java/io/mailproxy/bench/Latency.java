package io.mailproxy.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;

/**
 * Round-trip latency of small exchanges: each connection sends a 16-byte IMAP-NOOP-sized line to an
 * {@code echo} backend and waits for all 16 bytes back before sending the next (closed loop, one
 * outstanding request per connection). Times are taken on the connection's event loop, from the
 * write to the read that completes the echo.
 */
final class Latency {

    static final int REQUEST_SIZE = 16;
    /** Longest round trip the histogram holds (60 s); anything longer is clamped. */
    private static final long MAX_NANOS = TimeUnit.SECONDS.toNanos(60);

    private Latency() {
    }

    static Json run(Options o) throws InterruptedException {
        InetSocketAddress target = Net.target(o);
        Net.ClientTls tls = Net.clientTls(o, false);
        int connections = o.integer("connections", 4);
        int requests = o.integer("requests", 10_000);
        int warmup = o.integer("warmup-requests", Math.min(1000, Math.max(1, requests / 10)));
        double timeout = o.decimal("timeout-seconds", 300);
        try (Net net = new Net(o)) {
            o.checkAllUsed();
            AtomicInteger errors = new AtomicInteger();
            AtomicReference<String> firstError = new AtomicReference<>();
            AtomicReference<Json> tlsInfo = new AtomicReference<>();
            CountDownLatch done = new CountDownLatch(connections);
            List<Pinger> pingers = new ArrayList<>();
            List<Channel> channels = new ArrayList<>();
            long[] cpu0 = net.cpu();
            long t0 = System.nanoTime();
            for (int i = 0; i < connections; i++) {
                Pinger p = new Pinger(warmup, requests, done, errors, firstError, tls, tlsInfo);
                pingers.add(p);
                ChannelFuture f = net.client().handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast("tls", tls.fresh(ch));
                        }
                        ch.pipeline().addLast("ping", p);
                    }
                }).connect(target);
                channels.add(f.channel());
                f.addListener(c -> {
                    if (!c.isSuccess()) {
                        Throughput.error(errors, firstError, c.cause());
                        done.countDown();
                    }
                });
            }
            System.err.printf("loadgen latency: %d connections to %s (%s%s), %d requests each after %d warm-up%n",
                    connections, target, net.transport, tls == null ? "" : ", TLS", requests, warmup);
            List<String> limits = new ArrayList<>();
            if (!done.await(Math.round(timeout * 1000), TimeUnit.MILLISECONDS)) {
                // A stalled echo (or proxy) must end the run, not hang the orchestrator.
                limits.add("not every connection finished within --timeout-seconds");
                Throughput.error(errors, firstError, new IllegalStateException(done.getCount() + " connections unfinished"));
            }
            long wall = System.nanoTime() - t0;
            long[] cpu1 = net.cpu();
            Net.closeAll(channels, 10);
            Histogram all = new Histogram(MAX_NANOS, 3);
            for (Pinger p : pingers) {
                // The latch's countDown in the loop thread happens-before await's return here.
                all.add(p.histogram);
            }
            long n = all.getTotalCount();
            Json out = new Json().put("mode", "latency").put("target", target.getHostString() + ":" + target.getPort())
                    .put("transport", net.transport).put("tls", tlsInfo.get())
                    .put("connections", connections).put("requests", n).put("request_bytes", REQUEST_SIZE)
                    .put("p50_us", n == 0 ? null : all.getValueAtPercentile(50) / 1000.0)
                    .put("p99_us", n == 0 ? null : all.getValueAtPercentile(99) / 1000.0)
                    .put("p999_us", n == 0 ? null : all.getValueAtPercentile(99.9) / 1000.0)
                    .put("max_us", n == 0 ? null : all.getMaxValue() / 1000.0)
                    .put("mean_us", n == 0 ? null : all.getMean() / 1000.0)
                    .put("errors", errors.get()).put("first_error", firstError.get());
            boolean limited = net.reportCpu(cpu0, cpu1, wall, out, limits);
            out.put("loadgen_limited", limited).put("limits", limits);
            System.err.printf("loadgen latency: %d round trips, p50 %s us, p99 %s us, p99.9 %s us, errors %d%n",
                    n, out.fields().get("p50_us"), out.fields().get("p99_us"), out.fields().get("p999_us"), errors.get());
            return out;
        }
    }

    /** One connection's closed loop; all its state is touched only on its event loop. */
    private static final class Pinger extends ChannelInboundHandlerAdapter {
        final Histogram histogram = new Histogram(MAX_NANOS, 3);
        private final int warmup;
        private final int requests;
        private final CountDownLatch done;
        private final AtomicInteger errors;
        private final AtomicReference<String> firstError;
        private final Net.ClientTls tls;
        private final AtomicReference<Json> tlsInfo;
        private int sent;
        private int received;
        private long sentAt;
        private boolean finished;

        Pinger(int warmup, int requests, CountDownLatch done, AtomicInteger errors, AtomicReference<String> firstError,
               Net.ClientTls tls, AtomicReference<Json> tlsInfo) {
            this.warmup = warmup;
            this.requests = requests;
            this.done = done;
            this.errors = errors;
            this.firstError = firstError;
            this.tls = tls;
            this.tlsInfo = tlsInfo;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            SslHandler ssl = ctx.pipeline().get(SslHandler.class);
            if (ssl == null) {
                send(ctx);
            } else {
                ssl.handshakeFuture().addListener((Future<Channel> f) -> {
                    if (f.isSuccess()) {
                        tlsInfo.compareAndSet(null, tls.describe(ssl.engine().getSession()));
                        send(ctx);
                    } else {
                        fail(ctx, f.cause());
                    }
                });
            }
            ctx.fireChannelActive();
        }

        private void send(ChannelHandlerContext ctx) {
            ByteBuf b = Unpooled.copiedBuffer(String.format("a%08d NOOP\r\n", sent % 100_000_000), StandardCharsets.US_ASCII);
            sent++;
            sentAt = System.nanoTime();
            ctx.writeAndFlush(b, ctx.voidPromise());
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf b) {
                received += b.readableBytes();
            }
            ReferenceCountUtil.release(msg);
            if (received < REQUEST_SIZE || finished) {
                return;
            }
            long rtt = System.nanoTime() - sentAt;
            received -= REQUEST_SIZE;
            if (received != 0) {
                fail(ctx, new IllegalStateException("the echo sent more than was asked"));
                return;
            }
            if (sent > warmup) {
                histogram.recordValue(Math.min(rtt, MAX_NANOS));
            }
            if (sent < warmup + requests) {
                send(ctx);
            } else {
                finished = true;
                done.countDown();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (!finished) {
                fail(ctx, new IllegalStateException("connection closed after " + sent + " requests"));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            fail(ctx, cause);
        }

        private void fail(ChannelHandlerContext ctx, Throwable cause) {
            if (!finished) {
                finished = true;
                Throughput.error(errors, firstError, cause);
                done.countDown();
            }
            ctx.close();
        }
    }
}
