package io.mailproxy.starttls;

import io.mailproxy.mail.MailProtocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * The plaintext dialogue of a STARTTLS frontend: greets, answers each command line with its
 * protocol's {@link Dialogue}, and leaves the pipeline when the client upgrades (after putting the
 * TLS handlers in front of itself), goes on in plaintext ({@code starttls-optional}), or leaves.
 *
 * <p>It keeps its own line buffer rather than being a {@code ByteToMessageDecoder}: a decoder hands
 * the bytes it still holds to the next handler when it is removed, and bytes a client slipped in
 * behind STARTTLS must never travel on (CVE-2011-0411). Here they are released and counted.
 *
 * <p>Bounds: a command line of at most {@value #MAX_LINE} bytes, at most {@value #MAX_COMMANDS}
 * commands and {@value #MAX_REFUSED} refused ones; past any of them the client reads the protocol's
 * goodbye and is closed. The whole dialogue is bounded in time by the session ({@code tls.starttls.timeout}).
 */
public final class PreTlsHandler extends ChannelInboundHandlerAdapter {

    /**
     * The longest command line, CRLF included. RFC 5321 4.5.3.1.4 allows SMTP/LMTP 512 octets,
     * RFC 2449 POP3 255; IMAP sets no limit, but the commands answered here are short.
     */
    static final int MAX_LINE = 4096;
    /** Commands before STARTTLS: enough for any client, few enough that nobody can keep mailproxy busy. */
    static final int MAX_COMMANDS = 100;
    /** Refused commands, as Dovecot disconnects after 10 bad commands. */
    static final int MAX_REFUSED = 10;

    private final Dialogue dialogue;
    private final PreTlsListener listener;
    private final Consumer<ChannelHandlerContext> installTls;
    private final byte[] line = new byte[MAX_LINE];
    private int lineLength;
    private int commands;
    private int refusals;
    private boolean greeted;
    private boolean done;

    /**
     * @param installTls puts the TLS handlers (renegotiation guard, certificate selector) in front
     *                   of the handler whose context it is given
     */
    public PreTlsHandler(MailProtocol protocol, boolean optional, String hostName, PreTlsListener listener,
                         Consumer<ChannelHandlerContext> installTls) {
        this.dialogue = Dialogue.of(protocol, optional, hostName);
        this.listener = listener;
        this.installTls = installTls;
    }

    /** Writes the greeting: once the session has admitted the client. */
    public void greet(ChannelHandlerContext ctx) {
        if (!greeted && !done) {
            greeted = true;
            ctx.writeAndFlush(text(ctx, dialogue.greeting()));
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (done || !(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            while (in.isReadable() && !done) {
                byte b = in.readByte();
                if (lineLength == MAX_LINE) {
                    violate(ctx, "Command line too long.", "a command line longer than " + MAX_LINE + " bytes");
                    return;
                }
                line[lineLength++] = b;
                if (b == '\n') {
                    command(ctx, in);
                }
            }
        } finally {
            in.release();
        }
        if (!done) {
            ctx.flush();
        }
    }

    /** A whole line is in {@link #line}; {@code rest} holds what the client sent after it. */
    private void command(ChannelHandlerContext ctx, ByteBuf rest) {
        int end = lineLength - 1;
        if (end > 0 && line[end - 1] == '\r') {
            end--;
        }
        String text = new String(line, 0, end, StandardCharsets.ISO_8859_1);
        if (++commands > MAX_COMMANDS) {
            violate(ctx, "Too many commands.", "more than " + MAX_COMMANDS + " commands before STARTTLS");
            return;
        }
        Answer answer = dialogue.answer(text);
        if (answer.reply() != null) {
            ctx.write(text(ctx, answer.reply()));
        }
        if (answer.refused() != null) {
            listener.refused(answer.refused());
            if (++refusals >= MAX_REFUSED) {
                violate(ctx, "Too many invalid commands.", MAX_REFUSED + " commands refused before STARTTLS");
                return;
            }
        }
        switch (answer.action()) {
            case CONTINUE -> lineLength = 0;
            case STARTTLS -> upgrade(ctx, rest);
            case PLAINTEXT -> plaintext(ctx, rest);
            case CLOSE -> {
                done = true;
                ctx.flush();
                listener.loggedOut();
            }
        }
    }

    /**
     * The go-ahead is written in plaintext, then the TLS handlers go in front of this one: what
     * the client sends from now on is its handshake. What it sent after STARTTLS is dropped.
     */
    private void upgrade(ChannelHandlerContext ctx, ByteBuf rest) {
        done = true;
        int discarded = rest.readableBytes();
        rest.skipBytes(discarded);
        ctx.flush();
        installTls.accept(ctx);
        ctx.pipeline().remove(this);
        listener.upgrading(discarded);
    }

    /** The command line and everything after it go on, to a server, as they are. */
    private void plaintext(ChannelHandlerContext ctx, ByteBuf rest) {
        done = true;
        ctx.flush();
        ByteBuf bytes = ctx.alloc().buffer(lineLength + rest.readableBytes());
        bytes.writeBytes(line, 0, lineLength).writeBytes(rest);
        ctx.pipeline().remove(this);
        listener.stayingPlaintext(dialogue.serverPreamble(), dialogue.serverRepliesToDrop());
        ctx.fireChannelRead(bytes);
        ctx.fireChannelReadComplete();
    }

    private void violate(ChannelHandlerContext ctx, String words, String why) {
        done = true;
        ctx.writeAndFlush(text(ctx, dialogue.goodbye(words)));
        listener.violated(why);
    }

    private static ByteBuf text(ChannelHandlerContext ctx, String s) {
        return ByteBufUtil.writeAscii(ctx.alloc(), s);
    }
}
