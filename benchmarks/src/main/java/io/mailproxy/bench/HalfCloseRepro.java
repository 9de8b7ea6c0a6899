package io.mailproxy.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;

/**
 * A reproducer with Netty alone (no mailproxy code) of the write loss mailproxy saw on Netty
 * 4.2.18's epoll transport: a client sends a request and half-closes (FIN); the server, with
 * {@code ALLOW_HALF_CLOSURE}, answers with {@code --mib} MiB written with flow control (write while
 * writable, go on when writability returns) to a client that reads slowly. Every byte must arrive,
 * then the server's FIN.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.mailproxy.bench.HalfCloseRepro [nio|epoll|io_uring] [--mib 50] [--toggle-read]
 * </pre>
 *
 * {@code --toggle-read} also turns {@code autoRead} off and on with writability on the half-closed
 * channel, as a relay does for backpressure (mailproxy's relay did that to the client's channel).
 * Prints the bytes received and exits 0 when all arrived, 1 when some were lost.
 */
public final class HalfCloseRepro {

    private HalfCloseRepro() {
    }

    public static void main(String[] args) throws Exception {
        String transport = args.length > 0 ? args[0] : "epoll";
        long mib = 50;
        boolean toggle = false;
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--mib")) {
                mib = Long.parseLong(args[++i]);
            } else if (args[i].equals("--toggle-read")) {
                toggle = true;
            }
        }
        long expected = mib << 20;
        IoHandlerFactory io = switch (transport) {
            case "nio" -> NioIoHandler.newFactory();
            case "epoll" -> EpollIoHandler.newFactory();
            case "io_uring" -> IoUringIoHandler.newFactory();
            default -> throw new IllegalArgumentException("nio, epoll or io_uring");
        };
        Class<? extends ServerChannel> server = switch (transport) {
            case "nio" -> NioServerSocketChannel.class;
            case "epoll" -> EpollServerSocketChannel.class;
            default -> IoUringServerSocketChannel.class;
        };
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, io);
        boolean toggleRead = toggle;
        try {
            Channel listener = new ServerBootstrap().group(group).channel(server)
                    .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new Answer(expected, toggleRead));
                        }
                    })
                    .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            int port = ((InetSocketAddress) listener.localAddress()).getPort();
            long received = 0;
            try (Socket client = new Socket("127.0.0.1", port)) {
                client.setReceiveBufferSize(64 * 1024);
                client.setSoTimeout(10_000);
                OutputStream out = client.getOutputStream();
                out.write("GET\r\n".getBytes());
                out.flush();
                client.shutdownOutput();
                InputStream in = client.getInputStream();
                byte[] buf = new byte[8192];
                int n;
                try {
                    while ((n = in.read(buf)) > 0) {
                        received += n;
                        if ((received & 0xFFFFF) < n) {
                            Thread.sleep(1); // a slow reader: the server's socket buffer fills
                        }
                    }
                } catch (SocketTimeoutException e) {
                    System.out.println("the transfer stalled: nothing for 10 s");
                }
            }
            System.out.printf("%s%s: %d of %d bytes received%s%n", transport, toggleRead ? " (toggling autoRead)" : "",
                    received, expected, received == expected ? "" : ", " + (expected - received) + " lost");
            listener.close().sync();
            System.exit(received == expected ? 0 : 1);
        } finally {
            group.shutdownGracefully();
        }
    }

    /** Waits for the request's end (the client's FIN), then writes the answer with flow control. */
    private static final class Answer extends ChannelInboundHandlerAdapter {
        private final long total;
        private final boolean toggleRead;
        private long written;
        private boolean started;

        Answer(long total, boolean toggleRead) {
            this.total = total;
            this.toggleRead = toggleRead;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent && !started) {
                started = true;
                writeWhileWritable(ctx);
            }
            ReferenceCountUtil.release(evt);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (toggleRead) {
                ctx.channel().config().setAutoRead(ctx.channel().isWritable());
            }
            if (started && ctx.channel().isWritable()) {
                writeWhileWritable(ctx);
            }
        }

        private void writeWhileWritable(ChannelHandlerContext ctx) {
            while (written < total && ctx.channel().isWritable()) {
                int n = (int) Math.min(16 * 1024, total - written);
                ByteBuf chunk = Unpooled.wrappedBuffer(new byte[n]);
                written += n;
                ctx.write(chunk);
            }
            if (written >= total) {
                ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> ctx.close());
            } else {
                ctx.flush();
            }
        }
    }
}
