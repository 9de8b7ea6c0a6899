package io.mailproxy.checks;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.concurrent.Ticker;
import java.io.IOException;
import java.net.SocketException;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Drives one check connection: tracks how far it got (connect, TLS, conversation) so that a
 * timeout or a failure gets the right layer, feeds lines to the {@link Conversation}, and completes
 * the promise exactly once. Everything runs on the check's event loop, hence no synchronisation.
 */
final class CheckHandler extends ChannelInboundHandlerAdapter implements Conversation.Reply {

    /** How long a server may take to close after LOGOUT/QUIT before we close ourselves. */
    static final long GOODBYE_WAIT_MILLIS = 1000;

    static final String SSL_HANDSHAKE_FAILURE = "SSL handshake failure";
    static final String SSL_CLOSED = "Connection closed during SSL handshake";

    private enum Phase { CONNECTING, TLS, TALKING }

    private final CheckSpec spec;
    private final Conversation conversation;
    private final EventLoop loop;
    private final Promise<CheckResult> promise;
    private final Ticker ticker;
    private final long startNanos;
    /** Makes the TLS handler when a STARTTLS conversation upgrades. */
    private final Function<Channel, SslHandler> tls;
    private Phase phase = Phase.CONNECTING;
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> timer;

    CheckHandler(CheckSpec spec, EventLoop loop, Promise<CheckResult> promise, Function<Channel, SslHandler> tls) {
        this.spec = spec;
        this.tls = tls;
        this.conversation = Conversation.forSpec(spec);
        this.loop = loop;
        this.promise = promise;
        this.ticker = loop.ticker();
        this.startNanos = ticker.nanoTime();
    }

    /** Arms the whole-check timeout and watches the connect attempt. Call on the event loop. */
    void watch(ChannelFuture connect) {
        Channel channel = connect.channel();
        timer = loop.schedule(() -> onTimeout(channel), spec.timeout().toNanos(), TimeUnit.NANOSECONDS);
        connect.addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                connectFailed(f.cause());
            }
        });
    }

    private void onTimeout(Channel channel) {
        switch (phase) {
            case CONNECTING -> complete(CheckStatus.L4TOUT, 0, "");
            case TLS -> complete(CheckStatus.L6TOUT, 0, "");
            case TALKING -> complete(CheckStatus.L7TOUT, 0, "");
        }
        // also ends a connection still waiting for the server's goodbye
        channel.close();
    }

    private void connectFailed(Throwable cause) {
        cancelTimer();
        if (cause instanceof ConnectTimeoutException) {
            complete(CheckStatus.L4TOUT, 0, "");
        } else if (cause instanceof SocketException) {
            // ConnectException, NoRouteToHostException, ...: HAProxy shows strerror(), e.g. "Connection refused"
            complete(CheckStatus.L4CON, 0, reason(cause));
        } else {
            complete(CheckStatus.SOCKERR, 0, reason(cause));
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        boolean implicit = spec.tls().mode() == CheckTls.Mode.IMPLICIT;
        phase = implicit ? Phase.TLS : Phase.TALKING;
        if (conversation == null && !implicit) {
            passAndClose(CheckStatus.L4OK);
        }
        ctx.fireChannelActive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent handshake) {
            if (!handshake.isSuccess()) {
                fail(CheckStatus.L6RSP, 0, handshake.cause() instanceof ClosedChannelException
                        ? SSL_CLOSED : SSL_HANDSHAKE_FAILURE);
            } else if (phase == Phase.TLS) {
                phase = Phase.TALKING;
                if (conversation == null) {
                    passAndClose(CheckStatus.L6OK);
                } else if (spec.tls().mode() == CheckTls.Mode.STARTTLS && !promise.isDone()) {
                    conversation.tlsUp(this);
                }
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (phase == Phase.TLS && msg instanceof ByteBuf) {
                // after the STARTTLS reply only the TLS handshake may come, never a plaintext line
                fail(CheckStatus.L7RSP, 0, "data after the STARTTLS reply, before TLS");
            } else if (conversation != null && !promise.isDone() && msg instanceof ByteBuf line) {
                // ISO-8859-1 maps each byte to one char, so CheckResult can escape any byte faithfully
                conversation.onLine(line.toString(StandardCharsets.ISO_8859_1), this);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelTimer();
        switch (phase) {
            case CONNECTING -> complete(CheckStatus.SOCKERR, 0, "connection closed before it was up");
            case TLS -> complete(CheckStatus.L6RSP, 0, SSL_CLOSED);
            case TALKING -> complete(CheckStatus.L7RSP, 0, conversation == null
                    ? "connection closed" : "connection closed while waiting for " + conversation.awaiting());
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            fail(CheckStatus.L7RSP, 0, "reply line longer than " + MailCheck.MAX_LINE_LENGTH + " bytes");
        } else if (phase == Phase.TLS) {
            fail(CheckStatus.L6RSP, 0, SSL_HANDSHAKE_FAILURE);
        } else {
            // an I/O error once connected: HAProxy's SOCKERR, with strerror() as info
            fail(CheckStatus.SOCKERR, 0, reason(cause));
        }
    }

    @Override
    public void send(String line) {
        ctx.writeAndFlush(ByteBufUtil.writeAscii(ctx.alloc(), line + "\r\n"))
                .addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
    }

    @Override
    public void startTls() {
        MailCheck.Lines lines = ctx.pipeline().get(MailCheck.Lines.class);
        if (lines != null && lines.hasUnreadBytes()) {
            fail(CheckStatus.L7RSP, 0, "data after the STARTTLS reply, before TLS");
            return;
        }
        phase = Phase.TLS;
        ctx.pipeline().addBefore(CheckPipeline.LINES, CheckPipeline.TLS, tls.apply(ctx.channel()));
    }

    @Override
    public void pass(int code) {
        complete(CheckStatus.L7OK, code, "");
        // end politely and let the server close first, so the TIME_WAIT is on its side
        send(conversation.goodbye());
        cancelTimer();
        Channel channel = ctx.channel();
        timer = loop.schedule(() -> {
            channel.close();
        }, GOODBYE_WAIT_MILLIS, TimeUnit.MILLISECONDS);
    }

    @Override
    public void fail(CheckStatus status, int code, String info) {
        complete(status, code, info);
        ctx.close();
    }

    private void passAndClose(CheckStatus status) {
        complete(status, 0, "");
        // the empty write flushes behind anything pending (the PROXY header) before closing
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    private void complete(CheckStatus status, int code, String info) {
        if (promise.isDone()) {
            return;
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(ticker.nanoTime() - startNanos);
        String step = switch (phase) {
            case CONNECTING -> "connect";
            case TLS -> "TLS handshake";
            case TALKING -> conversation == null ? "connect" : conversation.awaiting();
        };
        promise.trySuccess(CheckResult.of(status, code, millis, info, step));
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    /**
     * The OS's words without the address Netty appends, as HAProxy shows strerror():
     * "Connection refused: localhost/127.0.0.1:143" becomes "Connection refused".
     */
    private String reason(Throwable cause) {
        String message = cause.getMessage();
        if (message == null || message.isEmpty()) {
            return cause instanceof IOException ? cause.getClass().getSimpleName() : cause.toString();
        }
        // epoll's native errors read "finishConnect(..) failed with error(-111): Connection refused":
        // keep the part an admin knows, as NIO gives it.
        message = message.replaceFirst("^\\w+\\(\\.\\.\\) failed with error\\(-?\\d+\\): ", "");
        int address = message.indexOf(": " + spec.target());
        if (address < 0) {
            address = message.indexOf(": /");
        }
        return address < 0 ? message : message.substring(0, address);
    }
}
