package io.mailproxy.bench;

import io.mailproxy.proxyprotocol.ProxyProtocolDecoder;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The backends a proxy forwards to: {@code sink} (reads and discards), {@code echo} (sends back
 * what it reads), {@code source} (sends 64 KiB buffers as fast as the connection takes them and
 * discards what it reads) and {@code greeter} (an idle IMAP server: one greeting line, then
 * silence). Each runs until killed.
 *
 * <p>A proxy in front may send a PROXY v1 or v2 header first; {@code --proxy-header optional} (the
 * default) decodes one when the first bytes are a PROXY signature, so the same backend serves the
 * direct runs and the proxied ones. {@code required} insists on one, {@code none} never looks.
 */
final class Backends {

    static final byte[] GREETING = "* OK [CAPABILITY IMAP4rev1] ready\r\n".getBytes(StandardCharsets.US_ASCII);

    private Backends() {
    }

    static Json run(String mode, Options o) throws InterruptedException {
        int port = o.integer("port", null);
        String bind = o.string("bind", "127.0.0.1");
        String proxyHeader = o.string("proxy-header", "optional");
        if (!List.of("optional", "required", "none").contains(proxyHeader)) {
            throw new Options.UsageException("--proxy-header must be optional, required or none, not \"" + proxyHeader + "\"");
        }
        Net net = new Net(o);
        o.checkAllUsed();
        ServerBootstrap b = new ServerBootstrap().group(net.group).channel(net.serverChannel)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 * 1024, 512 * 1024))
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        switch (proxyHeader) {
                            case "required" -> ch.pipeline().addLast("proxy", new ProxyProtocolDecoder());
                            case "optional" -> ch.pipeline().addLast("detect", new ProxyHeaderDetector());
                            default -> { }
                        }
                        ch.pipeline().addLast("backend", handler(mode));
                    }
                });
        Channel server = b.bind(new InetSocketAddress(bind, port)).sync().channel();
        int actual = ((InetSocketAddress) server.localAddress()).getPort();
        System.err.printf("loadgen %s: listening on %s:%d (%s, %s PROXY header)%n", mode, bind, actual, net.transport, proxyHeader);
        // The orchestrator waits for this line; the process then runs until killed.
        System.out.println(new Json().put("listening", actual));
        System.out.flush();
        server.closeFuture().sync();
        return null;
    }

    private static ChannelHandler handler(String mode) {
        return switch (mode) {
            case "sink" -> new Discard(false, false);
            case "greeter" -> new Discard(true, false);
            case "source" -> new Discard(false, true);
            case "echo" -> new Echo();
            default -> throw new IllegalArgumentException(mode);
        };
    }

    /** Not a byte buffer: the decoded PROXY header, which the benchmark does not need. */
    private static boolean isBytes(Object msg) {
        return msg instanceof ByteBuf;
    }

    /** Reads and drops everything; optionally greets first, or sends continuously. */
    private static final class Discard extends ChannelInboundHandlerAdapter {
        private final boolean greet;
        private final boolean source;

        Discard(boolean greet, boolean source) {
            this.greet = greet;
            this.source = source;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            if (greet) {
                ctx.writeAndFlush(Unpooled.wrappedBuffer(GREETING));
            }
            if (source) {
                Payload.fill(ctx.channel());
            }
            ctx.fireChannelActive();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (source && ctx.channel().isWritable()) {
                Payload.fill(ctx.channel());
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** Sends back what it reads; stops reading while its own writes are queued (backpressure). */
    private static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!isBytes(msg)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            ctx.write(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
            if (!ctx.channel().isWritable()) {
                ctx.channel().config().setAutoRead(false);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                ctx.channel().config().setAutoRead(true);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /**
     * Looks at the first bytes: a PROXY v1 ({@code "PROXY "}) or v2 (12-byte signature) start puts the
     * project's decoder in its place; anything else is passed on as it came.
     */
    static final class ProxyHeaderDetector extends ByteToMessageDecoder {
        private static final byte[] V1 = "PROXY ".getBytes(StandardCharsets.US_ASCII);
        private static final byte[] V2 = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            int v1 = matched(in, V1);
            int v2 = matched(in, V2);
            if (v1 == V1.length || v2 == V2.length) {
                ctx.pipeline().addAfter(ctx.name(), "proxy", new ProxyProtocolDecoder());
                ctx.pipeline().remove(this);
            } else if (v1 < 0 && v2 < 0) {
                ctx.pipeline().remove(this);
            }
            // else: a prefix of a signature so far; wait for more bytes.
        }

        /** How many bytes of {@code sig} the input matches, or -1 when it cannot be {@code sig}. */
        private static int matched(ByteBuf in, byte[] sig) {
            int n = Math.min(in.readableBytes(), sig.length);
            for (int i = 0; i < n; i++) {
                if (in.getByte(in.readerIndex() + i) != sig[i]) {
                    return -1;
                }
            }
            return n;
        }
    }

    /** The 64 KiB buffer every bulk writer sends: one shared read-only copy, never released. */
    static final class Payload {
        static final int SIZE = 64 * 1024;
        /** Filled with 'x': not a PROXY signature, so a detecting backend passes it through. */
        private static final ByteBuf BUFFER;

        static {
            byte[] b = new byte[SIZE];
            java.util.Arrays.fill(b, (byte) 'x');
            // Direct, so epoll writes it from its address; shared read-only by convention (duplicates only).
            BUFFER = Unpooled.unreleasableBuffer(Unpooled.directBuffer(SIZE).writeBytes(b));
        }

        private Payload() {
        }

        static ByteBuf next() {
            return BUFFER.duplicate();
        }

        /** Writes buffers until the channel's outbound buffer is above its high water mark. */
        static void fill(Channel ch) {
            fill(ch, null);
        }

        static void fill(Channel ch, ChannelFutureListener onWritten) {
            while (ch.isActive() && ch.isWritable()) {
                if (onWritten == null) {
                    ch.write(next(), ch.voidPromise());
                } else {
                    ch.write(next()).addListener(onWritten);
                }
            }
            ch.flush();
        }
    }
}
