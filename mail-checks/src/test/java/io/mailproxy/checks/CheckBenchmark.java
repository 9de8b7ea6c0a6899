package io.mailproxy.checks;

import com.sun.management.OperatingSystemMXBean;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Not a test: N servers (default 1000) checked every interval (default 2s) with the IMAP check and
 * a PROXY v2 LOCAL header, all against one fake IMAP server run in a child JVM so that its CPU is
 * not counted. Prints the checker process's CPU time over wall time and its heap use.
 *
 * <pre>
 * java -cp mail-checks/target/classes:mail-checks/target/test-classes:$(cat mail-checks/target/cp.txt) \
 *     io.mailproxy.checks.CheckBenchmark [servers] [intervalMillis] [warmupSeconds] [measureSeconds] [loopThreads]
 * </pre>
 */
public final class CheckBenchmark {

    private CheckBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("server")) {
            serve();
            return;
        }
        int servers = arg(args, 0, 1000);
        Duration interval = Duration.ofMillis(arg(args, 1, 2000));
        int warmup = arg(args, 2, 10);
        int measure = arg(args, 3, 40);
        int threads = arg(args, 4, 1);

        Process child = new ProcessBuilder(new File(System.getProperty("java.home"), "bin/java").getPath(),
                "-cp", System.getProperty("java.class.path"), CheckBenchmark.class.getName(), "server")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.US_ASCII));
            int port = Integer.parseInt(out.readLine().trim());
            run(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), servers, interval, warmup, measure, threads);
        } finally {
            child.destroy();
            child.waitFor(5, TimeUnit.SECONDS);
        }
    }

    private static void run(InetSocketAddress target, int servers, Duration interval, int warmup, int measure,
                            int threads) throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, NioIoHandler.newFactory());
        MailCheck mailCheck = new MailCheck(NioSocketChannel.class);
        Map<CheckStatus, LongAdder> statuses = new EnumMap<>(CheckStatus.class);
        for (CheckStatus s : CheckStatus.values()) {
            statuses.put(s, new LongAdder());
        }
        Checker counting = (loop, spec) -> {
            var result = mailCheck.run(loop, spec);
            result.addListener(f -> statuses.get(result.getNow().status()).increment());
            return result;
        };
        AtomicInteger active = new AtomicInteger(servers);
        AtomicInteger transitions = new AtomicInteger();
        TransitionListener listener = (server, up, cause) -> {
            transitions.incrementAndGet();
            return new ServerCounts(up ? active.incrementAndGet() : active.decrementAndGet(), 0);
        };
        CheckSpec spec = CheckSpec.of(CheckType.IMAP, target).withExpectCapabilities(List.of("IMAP4rev1"));
        List<ServerHealth> all = new ArrayList<>(servers);
        for (int i = 0; i < servers; i++) {
            ServerHealth h = new ServerHealth("imap-pool", "s" + i, spec, CheckSchedule.every(interval), counting, listener);
            all.add(h);
            h.start(group.next());
        }

        OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        TimeUnit.SECONDS.sleep(warmup);
        long checksBefore = total(statuses);
        long cpuBefore = os.getProcessCpuTime();
        long wallBefore = System.nanoTime();
        long peakHeap = 0;
        for (int s = 0; s < measure; s++) {
            TimeUnit.SECONDS.sleep(1);
            peakHeap = Math.max(peakHeap, memory.getHeapMemoryUsage().getUsed());
        }
        long cpu = os.getProcessCpuTime() - cpuBefore;
        long wall = System.nanoTime() - wallBefore;
        long checks = total(statuses) - checksBefore;
        System.gc();
        long retainedHeap = memory.getHeapMemoryUsage().getUsed();

        System.out.printf("servers=%d interval=%dms loopThreads=%d warmup=%ds measured=%.1fs cores=%d java=%s%n",
                servers, interval.toMillis(), threads, warmup, wall / 1e9, Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"));
        System.out.printf("checks=%d (%.0f/s) statuses since start=%s transitions=%d up=%d%n", checks, checks / (wall / 1e9),
                nonZero(statuses), transitions.get(), all.stream().filter(ServerHealth::isUp).count());
        System.out.printf("cpu=%.2f%% of one core (process cpu %.2fs over %.1fs wall), %.1f us cpu per check%n",
                100.0 * cpu / wall, cpu / 1e9, wall / 1e9, checks == 0 ? 0 : cpu / 1e3 / checks);
        System.out.printf("heap used: peak %.1f MiB (sampled each second), %.1f MiB after full GC; max heap %.0f MiB%n",
                peakHeap / 1048576.0, retainedHeap / 1048576.0, memory.getHeapMemoryUsage().getMax() / 1048576.0);

        all.forEach(ServerHealth::stop);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).await();
    }

    private static long total(Map<CheckStatus, LongAdder> statuses) {
        return statuses.values().stream().mapToLong(LongAdder::sum).sum();
    }

    private static Map<CheckStatus, Long> nonZero(Map<CheckStatus, LongAdder> statuses) {
        Map<CheckStatus, Long> out = new EnumMap<>(CheckStatus.class);
        statuses.forEach((s, n) -> {
            if (n.sum() > 0) {
                out.put(s, n.sum());
            }
        });
        return out;
    }

    private static int arg(String[] args, int i, int fallback) {
        return args.length > i ? Integer.parseInt(args[i]) : fallback;
    }

    /** The child: a Dovecot-like IMAP responder behind a PROXY-header listener; prints its port. */
    private static void serve() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        Channel listener = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HAProxyMessageDecoder(), new LineBasedFrameDecoder(1024),
                                new FakeImap());
                    }
                })
                .bind(InetAddress.getLoopbackAddress(), 0).sync().channel();
        System.out.println(((InetSocketAddress) listener.localAddress()).getPort());
        System.out.flush();
        // lives until the parent destroys it, or its stdin closes
        while (System.in.read() >= 0) {
            Thread.onSpinWait();
        }
        group.shutdownGracefully();
    }

    private static final class FakeImap extends SimpleChannelInboundHandler<Object> {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            write(ctx, "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN] "
                    + "Dovecot ready.\r\n");
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf line)) {
                return; // the HAProxyMessage: released by SimpleChannelInboundHandler
            }
            String command = line.toString(StandardCharsets.US_ASCII);
            if (command.endsWith("CAPABILITY")) {
                write(ctx, "* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN\r\n"
                        + "C1 OK Pre-login capabilities listed.\r\n");
            } else if (command.endsWith("LOGOUT")) {
                ctx.writeAndFlush(ByteBufUtil.writeAscii(ctx.alloc(), "* BYE Logging out\r\nC2 OK Logout completed.\r\n"))
                        .addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }

        private static void write(ChannelHandlerContext ctx, String text) {
            ctx.writeAndFlush(ByteBufUtil.writeAscii(ctx.alloc(), text));
        }
    }
}
