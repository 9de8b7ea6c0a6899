package io.mailproxy.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * Idle sessions: opens N sessions through the proxy to a {@code greeter}, waits for each greeting,
 * keeps them all open and silent (as IMAP IDLE clients are), and reads the proxy's resident memory
 * ({@code VmRSS} of {@code /proc/PID/status}) before the first and after the last; then closes them.
 *
 * <p>At most {@code --concurrency} sessions are being opened at once, so the proxy's accept
 * backlog does not overflow into SYN retries that would only measure the kernel's 1 s timer.
 * Client sockets are spread over several loopback source addresses: 20,000 client ports plus the
 * proxy's 20,000 backend ports would not fit the default ephemeral range (~28,000) from one address.
 */
final class Idle {

    private Idle() {
    }

    static Json run(Options o) throws InterruptedException {
        InetSocketAddress target = Net.target(o);
        Net.ClientTls tls = Net.clientTls(o, false);
        int sessions = o.integer("sessions", 1000);
        int concurrency = o.integer("concurrency", 256);
        int pid = o.integer("proxy-pid", 0);
        double settle = o.decimal("settle-seconds", 2);
        double timeout = o.decimal("open-timeout-seconds", 120);
        List<InetAddress> sources = sources(o.string("source-addresses",
                target.getAddress() != null && target.getAddress().isLoopbackAddress() ? "127.0.0.2-127.0.0.9" : "none"));
        if (concurrency < 1) {
            throw new Options.UsageException("--concurrency must be at least 1");
        }
        try (Net net = new Net(o)) {
            o.checkAllUsed();
            long fdLimit = fdLimit();
            if (fdLimit > 0 && fdLimit < sessions + 200L) {
                System.err.printf("loadgen idle: open-files limit is %d, below %d sessions + slack: run `ulimit -n %d` "
                        + "(for the proxy and the backend too) or expect errors%n", fdLimit, sessions, sessions * 2L + 1000);
            }
            AtomicInteger errors = new AtomicInteger();
            AtomicReference<String> firstError = new AtomicReference<>();
            AtomicReference<Json> tlsInfo = new AtomicReference<>();
            LongAdder greeted = new LongAdder();
            LongAdder droppedLater = new LongAdder();
            CountDownLatch settled = new CountDownLatch(sessions);
            Semaphore inFlight = new Semaphore(concurrency);
            ConcurrentLinkedQueue<Channel> open = new ConcurrentLinkedQueue<>();
            Bootstrap bootstrap = net.client().handler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    if (tls != null) {
                        ch.pipeline().addLast("tls", tls.fresh(ch));
                    }
                    ch.pipeline().addLast("idle", new Session(greeted, droppedLater, errors, firstError, settled, inFlight,
                            tls, tlsInfo));
                }
            });
            if (net.transport.equals("epoll")) {
                // Bind the source address only; the port is chosen at connect, unique per 4-tuple.
                bootstrap.option(EpollChannelOption.IP_BIND_ADDRESS_NO_PORT, true);
            }
            bootstrap.option(ChannelOption.SO_REUSEADDR, true);
            long rssBefore = rssKb(pid);
            System.err.printf("loadgen idle: opening %d sessions to %s (%s%s, %d at a time, from %s); proxy RSS %s kB%n",
                    sessions, target, net.transport, tls == null ? "" : ", TLS", concurrency,
                    sources.isEmpty() ? "any address" : sources.size() + " source addresses", rssBefore < 0 ? "?" : rssBefore);
            long t0 = System.nanoTime();
            long deadline = t0 + (long) (timeout * 1e9);
            for (int i = 0; i < sessions; i++) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !inFlight.tryAcquire(left, TimeUnit.NANOSECONDS)) {
                    break;
                }
                ChannelFuture f = sources.isEmpty() ? bootstrap.connect(target)
                        : bootstrap.connect(target, new InetSocketAddress(sources.get(i % sources.size()), 0));
                open.add(f.channel());
                f.addListener(c -> {
                    if (!c.isSuccess()) {
                        Throughput.error(errors, firstError, c.cause());
                        inFlight.release();
                        settled.countDown();
                    }
                });
            }
            boolean all = settled.await(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            long openNanos = System.nanoTime() - t0;
            long opened = greeted.sum();
            System.err.printf("loadgen idle: %d of %d sessions greeted in %.2f s%s; holding %.1f s%n", opened, sessions,
                    openNanos / 1e9, all ? "" : " (timed out)", settle);
            LoadGen.sleep(settle);
            long rssAfter = rssKb(pid);
            long stillOpen = opened - droppedLater.sum();
            for (Channel ch : open) {
                ch.attr(Session.CLOSING).set(true);
            }
            Net.closeAll(open, 10);
            Json out = new Json().put("mode", "idle").put("target", target.getHostString() + ":" + target.getPort())
                    .put("transport", net.transport).put("tls", tlsInfo.get())
                    .put("sessions", sessions).put("opened", opened).put("open_at_measure", stillOpen)
                    .put("open_seconds", openNanos / 1e9).put("sessions_per_s", opened / (openNanos / 1e9))
                    .put("proxy_pid", pid == 0 ? null : pid)
                    .put("rss_before_kb", rssBefore < 0 ? null : rssBefore).put("rss_after_kb", rssAfter < 0 ? null : rssAfter)
                    .put("rss_per_session_bytes", rssBefore < 0 || rssAfter < 0 || stillOpen == 0 ? null
                            : (rssAfter - rssBefore) * 1024.0 / stillOpen)
                    .put("fd_limit", fdLimit).put("errors", errors.get()).put("first_error", firstError.get());
            List<String> limits = new ArrayList<>();
            if (!all) {
                limits.add("not every session was greeted within --open-timeout-seconds");
            }
            out.put("loadgen_limited", false).put("limits", limits);
            System.err.printf("loadgen idle: proxy RSS %s -> %s kB, %s bytes per session, errors %d%n",
                    out.fields().get("rss_before_kb"), out.fields().get("rss_after_kb"), out.fields().get("rss_per_session_bytes"),
                    errors.get());
            return out;
        }
    }

    /** {@code a.b.c.d-a.b.c.e} (a range in the last octet), a comma list, or {@code none}. */
    static List<InetAddress> sources(String spec) {
        List<InetAddress> out = new ArrayList<>();
        if (spec.equals("none") || spec.isEmpty()) {
            return out;
        }
        try {
            for (String part : spec.split(",")) {
                int dash = part.indexOf('-');
                if (dash < 0) {
                    out.add(InetAddress.getByName(part.trim()));
                    continue;
                }
                byte[] from = InetAddress.getByName(part.substring(0, dash).trim()).getAddress();
                byte[] to = InetAddress.getByName(part.substring(dash + 1).trim()).getAddress();
                for (int last = from[from.length - 1] & 0xFF; last <= (to[to.length - 1] & 0xFF); last++) {
                    byte[] a = from.clone();
                    a[a.length - 1] = (byte) last;
                    out.add(InetAddress.getByAddress(a));
                }
            }
        } catch (UnknownHostException | RuntimeException e) {
            throw new Options.UsageException("--source-addresses: \"" + spec + "\" is not a list or range of addresses");
        }
        return out;
    }

    /** The proxy's resident set in kB, or -1 without a pid. */
    static long rssKb(int pid) {
        if (pid <= 0) {
            return -1;
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
            throw new IllegalStateException("/proc/" + pid + "/status has no VmRSS line");
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the proxy's memory: " + e);
        }
    }

    /** This process's soft open-files limit (the JVM raises it to the hard limit at start), or -1. */
    static long fdLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String[] f = line.substring("Max open files".length()).trim().split("\\s+");
                    return f[0].equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(f[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** One session: counts its greeting, then only notices an unexpected close. */
    private static final class Session extends ChannelInboundHandlerAdapter {
        static final io.netty.util.AttributeKey<Boolean> CLOSING = io.netty.util.AttributeKey.valueOf("loadgen.idle.closing");
        private final LongAdder greeted;
        private final LongAdder droppedLater;
        private final AtomicInteger errors;
        private final AtomicReference<String> firstError;
        private final CountDownLatch settled;
        private final Semaphore inFlight;
        private final Net.ClientTls tls;
        private final AtomicReference<Json> tlsInfo;
        private boolean done;
        private boolean isGreeted;

        Session(LongAdder greeted, LongAdder droppedLater, AtomicInteger errors, AtomicReference<String> firstError,
                CountDownLatch settled, Semaphore inFlight, Net.ClientTls tls, AtomicReference<Json> tlsInfo) {
            this.greeted = greeted;
            this.droppedLater = droppedLater;
            this.errors = errors;
            this.firstError = firstError;
            this.settled = settled;
            this.inFlight = inFlight;
            this.tls = tls;
            this.tlsInfo = tlsInfo;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            SslHandler ssl = ctx.pipeline().get(SslHandler.class);
            if (ssl != null) {
                ssl.handshakeFuture().addListener((Future<Channel> f) -> {
                    if (f.isSuccess()) {
                        tlsInfo.compareAndSet(null, tls.describe(ssl.engine().getSession()));
                    }
                });
            }
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
            if (!done) {
                done = true;
                isGreeted = true;
                greeted.increment();
                inFlight.release();
                settled.countDown();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (ctx.channel().hasAttr(CLOSING)) {
                return;
            }
            if (!done) {
                fail(new IllegalStateException("closed before the greeting"));
            } else if (isGreeted) {
                droppedLater.increment();
                Throughput.error(errors, firstError, new IllegalStateException("an idle session was closed by the proxy"));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            fail(cause);
            ctx.close();
        }

        private void fail(Throwable cause) {
            if (!done) {
                done = true;
                Throughput.error(errors, firstError, cause);
                inFlight.release();
                settled.countDown();
            }
        }
    }
}
