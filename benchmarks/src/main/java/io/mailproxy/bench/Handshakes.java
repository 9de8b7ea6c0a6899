package io.mailproxy.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * New TLS sessions per second: C workers, each in a loop of connect, TLS handshake, read the
 * first bytes the server side sends (a {@code greeter} behind the proxy, which also proves the
 * proxy reached its backend), close, again.
 *
 * <p>Without {@code --resume} every handshake is full: the handlers are made without a peer host
 * and port, so the client's session cache is never consulted. With {@code --resume} they are made
 * for the target's host and port, so the engine offers the ticket or session id of an earlier
 * session (TLS 1.3 tickets arrive after the handshake, which is one reason to read the greeting
 * before closing). {@code resumed} counts the handshakes the engine reports as resumed.
 */
final class Handshakes {

    private Handshakes() {
    }

    static Json run(Options o) throws InterruptedException {
        InetSocketAddress target = Net.target(o);
        Net.ClientTls tls = Net.clientTls(o, true);
        int connections = o.integer("connections", 16);
        double seconds = o.decimal("seconds", 10);
        double warmup = o.decimal("warmup-seconds", 1);
        boolean resume = o.flag("resume");
        boolean greeting = !o.flag("no-greeting");
        try (Net net = new Net(o)) {
            o.checkAllUsed();
            Counters c = new Counters();
            AtomicReference<Json> tlsInfo = new AtomicReference<>();
            Bootstrap bootstrap = net.client().handler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast("tls", resume ? tls.resuming(ch, target) : tls.fresh(ch));
                    ch.pipeline().addLast("one", new OneHandshake(c, greeting, tls, tlsInfo));
                }
            });
            Worker[] workers = new Worker[connections];
            for (int i = 0; i < connections; i++) {
                workers[i] = new Worker(bootstrap, target, c);
                workers[i].next();
            }
            System.err.printf("loadgen handshakes: %d workers to %s (%s, %s handshakes%s); warm-up %.1f s, measuring %.1f s%n",
                    connections, target, net.transport, resume ? "resumed" : "full", greeting ? ", reading the greeting" : "",
                    warmup, seconds);
            LoadGen.sleep(warmup);
            long done0 = c.done.sum();
            long resumed0 = c.resumed.sum();
            int errors0 = c.errors.get();
            long[] cpu0 = net.cpu();
            long t0 = System.nanoTime();
            LoadGen.sleep(seconds);
            long done1 = c.done.sum();
            long resumed1 = c.resumed.sum();
            int errors1 = c.errors.get();
            long[] cpu1 = net.cpu();
            long wall = System.nanoTime() - t0;
            c.stop = true;
            double secs = wall / 1e9;
            Json out = new Json().put("mode", "handshakes").put("target", target.getHostString() + ":" + target.getPort())
                    .put("transport", net.transport).put("tls", tlsInfo.get()).put("resume", resume)
                    .put("connections", connections).put("seconds", secs)
                    .put("handshakes", done1 - done0).put("handshakes_per_s", (done1 - done0) / secs)
                    .put("resumed", c.resumedKnown ? resumed1 - resumed0 : null)
                    .put("errors", errors1).put("errors_in_window", errors1 - errors0).put("first_error", c.firstError.get());
            List<String> limits = new ArrayList<>();
            boolean limited = net.reportCpu(cpu0, cpu1, wall, out, limits);
            out.put("loadgen_limited", limited).put("limits", limits);
            System.err.printf("loadgen handshakes: %.0f/s (%d in %.1f s), resumed %s, errors %d%s%n",
                    (done1 - done0) / secs, done1 - done0, secs, out.fields().get("resumed"), errors1,
                    limited ? " (GENERATOR-LIMITED)" : "");
            return out;
        }
    }

    private static final class Counters {
        final LongAdder done = new LongAdder();
        final LongAdder resumed = new LongAdder();
        final AtomicInteger errors = new AtomicInteger();
        final AtomicReference<String> firstError = new AtomicReference<>();
        volatile boolean resumedKnown;
        volatile boolean stop;
    }

    /** One worker: a new connection as soon as the previous one has closed. */
    private static final class Worker {
        private final Bootstrap bootstrap;
        private final InetSocketAddress target;
        private final Counters c;

        Worker(Bootstrap bootstrap, InetSocketAddress target, Counters c) {
            this.bootstrap = bootstrap;
            this.target = target;
            this.c = c;
        }

        void next() {
            if (c.stop) {
                return;
            }
            bootstrap.connect(target).addListener((io.netty.channel.ChannelFuture f) -> {
                if (!f.isSuccess()) {
                    Throughput.error(c.errors, c.firstError, f.cause());
                    // A refused connect returns at once: do not spin; retry from the loop shortly.
                    f.channel().eventLoop().schedule(this::next, 10, java.util.concurrent.TimeUnit.MILLISECONDS);
                    return;
                }
                f.channel().closeFuture().addListener(x -> next());
            });
        }
    }

    /** Counts one handshake (after the greeting when asked), then closes. */
    private static final class OneHandshake extends ChannelInboundHandlerAdapter {
        private final Counters c;
        private final boolean greeting;
        private final Net.ClientTls tls;
        private final AtomicReference<Json> tlsInfo;
        private boolean shaken;
        private boolean counted;

        OneHandshake(Counters c, boolean greeting, Net.ClientTls tls, AtomicReference<Json> tlsInfo) {
            this.c = c;
            this.greeting = greeting;
            this.tls = tls;
            this.tlsInfo = tlsInfo;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            SslHandler ssl = ctx.pipeline().get(SslHandler.class);
            ssl.handshakeFuture().addListener((Future<Channel> f) -> {
                if (!f.isSuccess()) {
                    fail(ctx, f.cause());
                    return;
                }
                shaken = true;
                tlsInfo.compareAndSet(null, tls.describe(ssl.engine().getSession()));
                Boolean r = Net.resumed(ssl.engine());
                if (r != null) {
                    c.resumedKnown = true;
                    if (r) {
                        c.resumed.increment();
                    }
                }
                if (!greeting) {
                    count(ctx);
                }
            });
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
            if (shaken && greeting) {
                count(ctx);
            }
        }

        private void count(ChannelHandlerContext ctx) {
            if (!counted) {
                counted = true;
                c.done.increment();
                ctx.close();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (!counted && shaken) {
                fail(ctx, new IllegalStateException("closed before the server's first bytes"));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            fail(ctx, cause);
        }

        private void fail(ChannelHandlerContext ctx, Throwable cause) {
            if (!counted) {
                counted = true;
                Throughput.error(c.errors, c.firstError, cause);
            }
            ctx.close();
        }
    }
}
