package io.mailproxy.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.concurrent.EventExecutor;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;

/**
 * Event loops, channel classes and the client TLS context shared by every mode.
 *
 * <p>Epoll when it loads (else NIO, or NIO on request). The loops' threads are known so that
 * {@link #cpu()} can say how busy each was: a loop thread above {@link #LIMIT_CPU} of a core means
 * the generator, not the system under test, set the pace.
 */
final class Net implements AutoCloseable {

    /** A loop thread busier than this share of one core is the bottleneck, not the target. */
    static final double LIMIT_CPU = 0.9;

    final String transport;
    final EventLoopGroup group;
    final Class<? extends Channel> socketChannel;
    final Class<? extends ServerChannel> serverChannel;
    private final long[] threadIds;
    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();

    Net(Options o) {
        String want = o.string("transport", "auto");
        int n = o.integer("threads", Math.max(1, Runtime.getRuntime().availableProcessors() / 2));
        if (n < 1) {
            throw new Options.UsageException("--threads must be at least 1");
        }
        IoHandlerFactory factory;
        switch (want) {
            case "auto", "epoll" -> {
                if (Epoll.isAvailable()) {
                    transport = "epoll";
                    factory = EpollIoHandler.newFactory();
                    socketChannel = EpollSocketChannel.class;
                    serverChannel = EpollServerSocketChannel.class;
                } else if (want.equals("epoll")) {
                    throw new Options.UsageException("--transport epoll: " + Epoll.unavailabilityCause());
                } else {
                    transport = "nio";
                    factory = NioIoHandler.newFactory();
                    socketChannel = NioSocketChannel.class;
                    serverChannel = NioServerSocketChannel.class;
                }
            }
            case "nio" -> {
                transport = "nio";
                factory = NioIoHandler.newFactory();
                socketChannel = NioSocketChannel.class;
                serverChannel = NioServerSocketChannel.class;
            }
            default -> throw new Options.UsageException("--transport must be auto, epoll or nio, not \"" + want + "\"");
        }
        group = new MultiThreadIoEventLoopGroup(n, factory);
        threadIds = new long[n];
        int i = 0;
        for (EventExecutor e : group) {
            try {
                threadIds[i++] = e.submit(() -> Thread.currentThread().getId()).get();
            } catch (InterruptedException | ExecutionException ex) {
                throw new IllegalStateException("event loop did not start", ex);
            }
        }
    }

    Bootstrap client() {
        return new Bootstrap().group(group).channel(socketChannel)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000);
    }

    /** CPU time consumed so far by each loop thread, in nanoseconds. */
    long[] cpu() {
        long[] out = new long[threadIds.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = threads.getThreadCpuTime(threadIds[i]);
        }
        return out;
    }

    /**
     * Each loop thread's busy share of one core between two {@link #cpu()} samples, and whether any
     * was above {@link #LIMIT_CPU}; adds {@code loadgen_cpu} and {@code loadgen_limited} to {@code out}.
     */
    boolean reportCpu(long[] before, long[] after, long wallNanos, Json out, List<String> limits) {
        List<Double> shares = new ArrayList<>();
        boolean limited = false;
        for (int i = 0; i < before.length; i++) {
            double share = wallNanos <= 0 ? 0 : (double) (after[i] - before[i]) / wallNanos;
            shares.add(share);
            if (share > LIMIT_CPU) {
                limited = true;
            }
        }
        if (limited) {
            limits.add(String.format("a load generator thread used more than %.0f%% of a core: "
                    + "the generator may be the bottleneck (add --threads or a machine)", LIMIT_CPU * 100));
        }
        out.put("loadgen_threads", before.length);
        out.put("loadgen_cpu", shares);
        return limited;
    }

    /**
     * Closes every channel and waits for them together, at most {@code seconds} in all (a channel
     * whose close hangs, e.g. a TLS close_notify that cannot be flushed, must not hang the run);
     * returns how many were still open at the deadline.
     */
    static int closeAll(Iterable<Channel> channels, double seconds) {
        for (Channel ch : channels) {
            ch.close();
        }
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        int stuck = 0;
        for (Channel ch : channels) {
            long left = deadline - System.nanoTime();
            if (!ch.closeFuture().awaitUninterruptibly(Math.max(0, left), TimeUnit.NANOSECONDS)) {
                stuck++;
            }
        }
        if (stuck > 0) {
            System.err.printf("loadgen: %d connections had not closed after %.0f s; exiting anyway%n", stuck, seconds);
        }
        return stuck;
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    static InetSocketAddress target(Options o) {
        String t = o.required("target");
        int colon = t.lastIndexOf(':');
        if (colon <= 0) {
            throw new Options.UsageException("--target must be host:port, not \"" + t + "\"");
        }
        String host = t.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            return new InetSocketAddress(host, Integer.parseInt(t.substring(colon + 1)));
        } catch (IllegalArgumentException e) {
            throw new Options.UsageException("--target must be host:port, not \"" + t + "\"");
        }
    }

    /**
     * The client side of TLS, or null without {@code --tls}: trusts any certificate (a benchmark
     * measures the proxy, not PKI), BoringSSL when it loads, TLS 1.3 unless {@code --tls-version}.
     */
    static ClientTls clientTls(Options o, boolean forced) {
        boolean tls = forced || o.flag("tls");
        String cipher = o.string("tls-cipher", "");
        String version = o.string("tls-version", "TLSv1.3");
        String engine = o.string("tls-engine", "auto");
        if (!tls) {
            return null;
        }
        SslProvider provider = switch (engine) {
            case "auto" -> OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
            case "openssl" -> {
                if (!OpenSsl.isAvailable()) {
                    throw new Options.UsageException("--tls-engine openssl: " + OpenSsl.unavailabilityCause());
                }
                yield SslProvider.OPENSSL;
            }
            case "jdk" -> SslProvider.JDK;
            default -> throw new Options.UsageException("--tls-engine must be auto, openssl or jdk, not \"" + engine + "\"");
        };
        try {
            SslContextBuilder b = SslContextBuilder.forClient()
                    .sslProvider(provider)
                    .trustManager(InsecureTrustManagerFactory.INSTANCE)
                    .protocols(version.split(","));
            if (!cipher.isEmpty()) {
                b.ciphers(List.of(cipher.split(",")));
            }
            return new ClientTls(b.build(), provider, cipher);
        } catch (SSLException e) {
            throw new Options.UsageException("TLS client context: " + e.getMessage());
        }
    }

    /** A client TLS context and what was asked of it. */
    record ClientTls(SslContext context, SslProvider provider, String pinnedCipher) {

        private static final java.util.concurrent.atomic.AtomicBoolean WARNED = new java.util.concurrent.atomic.AtomicBoolean();

        /** A handler that never resumes: no peer host and port, so no session cache lookup. */
        SslHandler fresh(Channel ch) {
            return context.newHandler(ch.alloc());
        }

        /** A handler that offers a cached session (ticket or id) for {@code peer} when there is one. */
        SslHandler resuming(Channel ch, InetSocketAddress peer) {
            return context.newHandler(ch.alloc(), peer.getHostString(), peer.getPort());
        }

        /** The negotiated protocol and cipher of a finished handshake, for the report. */
        Json describe(SSLSession s) {
            Json j = new Json().put("engine", provider == SslProvider.OPENSSL ? "openssl" : "jdk")
                    .put("protocol", s.getProtocol()).put("cipher", s.getCipherSuite());
            if (!pinnedCipher.isEmpty() && !List.of(pinnedCipher.split(",")).contains(s.getCipherSuite())) {
                // BoringSSL does not let a client restrict TLS 1.3 suites; say so rather than mislabel.
                String m = "asked for " + pinnedCipher + ", negotiated " + s.getCipherSuite()
                        + (provider == SslProvider.OPENSSL ? " (BoringSSL cannot restrict TLS 1.3 suites on the client:"
                        + " pin the suite on the server, or use --tls-engine jdk)" : "");
                j.put("cipher_mismatch", m);
                if (!WARNED.getAndSet(true)) {
                    System.err.println("loadgen: WARNING: cipher " + m);
                }
            }
            return j;
        }
    }

    /** Resolved on first use: loading the engine class before tcnative's library is loaded fails. */
    private static final class Reuse {
        static final Method SESSION_REUSED = sessionReusedMethod();

        private static Method sessionReusedMethod() {
            if (!OpenSsl.isAvailable()) {
                return null;
            }
            try {
                Method m = Class.forName("io.netty.handler.ssl.ReferenceCountedOpenSslEngine").getDeclaredMethod("isSessionReused");
                m.setAccessible(true);
                return m;
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                return null;
            }
        }
    }

    /**
     * Whether a finished handshake resumed a session: true, false, or null when the engine cannot
     * tell (the JDK's has no API for it; OpenSSL's is package-private, hence the reflection).
     */
    static Boolean resumed(SSLEngine engine) {
        Method m = Reuse.SESSION_REUSED;
        if (m == null || !m.getDeclaringClass().isInstance(engine)) {
            return null;
        }
        try {
            return (Boolean) m.invoke(engine);
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }
}
