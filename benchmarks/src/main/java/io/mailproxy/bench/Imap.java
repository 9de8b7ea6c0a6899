package io.mailproxy.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.TooLongFrameException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * Real IMAP against Dovecot: C connections, each in a loop of connect, greeting, {@code LOGIN},
 * {@code SELECT INBOX}, a {@code FETCH} ({@code FETCH 1 BODY[]} when the mailbox has a message, else
 * {@code UID FETCH 1:* (FLAGS)}, which an empty mailbox answers OK where {@code FETCH 1:*} is BAD),
 * {@code LOGOUT}, close. One operation is one whole cycle. Connection i logs in as
 * {@code <user-prefix><i+1>}.
 */
final class Imap {

    private Imap() {
    }

    static Json run(Options o) throws InterruptedException {
        InetSocketAddress target = Net.target(o);
        Net.ClientTls tls = Net.clientTls(o, false);
        int connections = o.integer("connections", 8);
        double seconds = o.decimal("seconds", 10);
        double warmup = o.decimal("warmup-seconds", 1);
        String prefix = o.string("user-prefix", "u");
        String password = o.string("password", "demo");
        try (Net net = new Net(o)) {
            o.checkAllUsed();
            LongAdder ops = new LongAdder();
            LongAdder fetchedBytes = new LongAdder();
            AtomicInteger errors = new AtomicInteger();
            AtomicReference<String> firstError = new AtomicReference<>();
            AtomicReference<Json> tlsInfo = new AtomicReference<>();
            List<Client> clients = new ArrayList<>();
            for (int i = 0; i < connections; i++) {
                String user = prefix + (i + 1);
                Client client = new Client(net, target, tls, user, password, ops, errors, firstError, tlsInfo);
                clients.add(client);
                client.next();
            }
            System.err.printf("loadgen imap: %d connections to %s (%s%s) as %s1..%s%d; warm-up %.1f s, measuring %.1f s%n",
                    connections, target, net.transport, tls == null ? "" : ", TLS", prefix, prefix, connections, warmup, seconds);
            LoadGen.sleep(warmup);
            long ops0 = ops.sum();
            int errors0 = errors.get();
            long[] cpu0 = net.cpu();
            long t0 = System.nanoTime();
            LoadGen.sleep(seconds);
            long ops1 = ops.sum();
            int errors1 = errors.get();
            long[] cpu1 = net.cpu();
            long wall = System.nanoTime() - t0;
            for (Client c : clients) {
                c.stop = true;
            }
            double secs = wall / 1e9;
            Json out = new Json().put("mode", "imap").put("target", target.getHostString() + ":" + target.getPort())
                    .put("transport", net.transport).put("tls", tlsInfo.get())
                    .put("connections", connections).put("seconds", secs)
                    .put("operations", ops1 - ops0).put("operations_per_s", (ops1 - ops0) / secs)
                    .put("errors", errors1).put("errors_in_window", errors1 - errors0).put("first_error", firstError.get());
            List<String> limits = new ArrayList<>();
            boolean limited = net.reportCpu(cpu0, cpu1, wall, out, limits);
            out.put("loadgen_limited", limited).put("limits", limits);
            System.err.printf("loadgen imap: %.1f operations/s, errors %d%n", (ops1 - ops0) / secs, errors1);
            for (Client c : clients) {
                c.awaitIdle();
            }
            return out;
        }
    }

    /** One connection slot: a new session after each finished (or failed) one. */
    private static final class Client {
        private final Bootstrap bootstrap;
        private final InetSocketAddress target;
        private final String user;
        private final String password;
        private final LongAdder ops;
        private final AtomicInteger errors;
        private final AtomicReference<String> firstError;
        volatile boolean stop;
        private volatile Channel current;

        Client(Net net, InetSocketAddress target, Net.ClientTls tls, String user, String password, LongAdder ops,
               AtomicInteger errors, AtomicReference<String> firstError, AtomicReference<Json> tlsInfo) {
            this.target = target;
            this.user = user;
            this.password = password;
            this.ops = ops;
            this.errors = errors;
            this.firstError = firstError;
            this.bootstrap = net.client().handler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    if (tls != null) {
                        io.netty.handler.ssl.SslHandler ssl = tls.fresh(ch);
                        ssl.handshakeFuture().addListener(f -> {
                            if (f.isSuccess()) {
                                tlsInfo.compareAndSet(null, tls.describe(ssl.engine().getSession()));
                            }
                        });
                        ch.pipeline().addLast("tls", ssl);
                    }
                    ch.pipeline().addLast("lines", new Lines());
                    ch.pipeline().addLast("session", new Session());
                }
            });
        }

        void next() {
            if (stop) {
                return;
            }
            ChannelFuture f = bootstrap.connect(target);
            current = f.channel();
            f.addListener((ChannelFuture c) -> {
                if (!c.isSuccess()) {
                    Throughput.error(errors, firstError, c.cause());
                    c.channel().eventLoop().schedule(this::next, 10, TimeUnit.MILLISECONDS);
                    return;
                }
                c.channel().closeFuture().addListener(x -> next());
            });
        }

        void awaitIdle() {
            Channel ch = current;
            if (ch != null) {
                ch.closeFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
        }

        /** The IMAP conversation of one session; lines come from {@link Lines}. */
        private final class Session extends SimpleChannelInboundHandler<String> {
            private int step;
            private int exists;
            private boolean finished;

            @Override
            protected void channelRead0(ChannelHandlerContext ctx, String line) {
                if (step == 0) {
                    if (!line.startsWith("* OK")) {
                        fail(ctx, "greeting: " + line);
                        return;
                    }
                    step = 1;
                    send(ctx, "a1 LOGIN \"" + user + "\" \"" + password + "\"");
                    return;
                }
                if (line.startsWith("* ") && line.endsWith(" EXISTS")) {
                    exists = Integer.parseInt(line.substring(2, line.length() - " EXISTS".length()));
                    return;
                }
                String tag = "a" + step + " ";
                if (!line.startsWith(tag)) {
                    return;
                }
                if (!line.startsWith(tag + "OK")) {
                    fail(ctx, line);
                    return;
                }
                switch (step) {
                    case 1 -> send(ctx, "a2 SELECT INBOX");
                    case 2 -> send(ctx, exists > 0 ? "a3 FETCH 1 BODY[]" : "a3 UID FETCH 1:* (FLAGS)");
                    case 3 -> send(ctx, "a4 LOGOUT");
                    default -> {
                        finished = true;
                        ops.increment();
                        ctx.close();
                        return;
                    }
                }
                step++;
            }

            private void send(ChannelHandlerContext ctx, String command) {
                ctx.writeAndFlush(Unpooled.copiedBuffer(command + "\r\n", StandardCharsets.US_ASCII), ctx.voidPromise());
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                if (!finished) {
                    finished = true;
                    Throughput.error(errors, firstError, new IllegalStateException("closed at step " + step));
                }
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                if (!finished) {
                    finished = true;
                    Throughput.error(errors, firstError, cause);
                }
                ctx.close();
            }

            private void fail(ChannelHandlerContext ctx, String what) {
                if (!finished) {
                    finished = true;
                    Throughput.error(errors, firstError, new IllegalStateException("unexpected reply: " + what));
                }
                ctx.close();
            }
        }
    }

    /**
     * IMAP response lines without their CRLF; literals ({@code {n}\r\n} then n bytes) are skipped,
     * so a message body can never be mistaken for a tagged reply.
     */
    static final class Lines extends ByteToMessageDecoder {
        private static final int MAX_LINE = 64 * 1024;
        private long skip;

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws TooLongFrameException {
            while (true) {
                if (skip > 0) {
                    int n = (int) Math.min(skip, in.readableBytes());
                    in.skipBytes(n);
                    skip -= n;
                    if (skip > 0) {
                        return;
                    }
                }
                int eol = in.indexOf(in.readerIndex(), in.writerIndex(), (byte) '\n');
                if (eol < 0) {
                    if (in.readableBytes() > MAX_LINE) {
                        throw new TooLongFrameException("an IMAP line longer than " + MAX_LINE + " bytes");
                    }
                    return;
                }
                String line = in.readCharSequence(eol - in.readerIndex() + 1, StandardCharsets.ISO_8859_1).toString().strip();
                if (line.endsWith("}")) {
                    int open = line.lastIndexOf('{');
                    if (open >= 0) {
                        try {
                            skip = Long.parseLong(line.substring(open + 1, line.length() - 1).replace("+", ""));
                        } catch (NumberFormatException e) {
                            skip = 0;
                        }
                    }
                }
                out.add(line);
            }
        }
    }
}
