package io.mailproxy.starttls;

import io.mailproxy.mail.MailProtocol;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;

/**
 * On the server side of a STARTTLS session: takes the server's greeting out of what it sends (the
 * client had mailproxy's, before TLS), whole however it is split and however many lines it has
 * (an LMTP greeting may be {@code 220-...} lines then {@code 220 ...}), then the replies to a
 * preamble mailproxy sent in the client's name; everything after goes on. A greeting that is a
 * refusal (IMAP {@code * BYE}, POP3 {@code -ERR}, LMTP anything but 220) goes on to the client as
 * it is: the server's goodbye is the client's to read. Removes itself once done.
 */
public final class GreetingFilter extends ChannelInboundHandlerAdapter {

    /** The most bytes a greeting and the dropped replies may take; Dovecot's are a few hundred. */
    static final int MAX_HELD = 16 * 1024;

    private final MailProtocol protocol;
    private int repliesLeft;
    private boolean greeting = true;
    private boolean passing;
    private ByteBuf held;
    private int lineStart;

    /** @param repliesToDrop replies after the greeting not to pass on (LMTP: to the replayed LHLO) */
    public GreetingFilter(MailProtocol protocol, int repliesToDrop) {
        this.protocol = protocol;
        this.repliesLeft = repliesToDrop;
    }

    /** Whether the greeting and the replies have gone by: nothing more is taken out. */
    public boolean done() {
        return passing;
    }

    /**
     * Takes what belongs to the greeting (and the dropped replies) out of {@code in} (consumed)
     * and returns what goes on, or null when nothing does.
     *
     * @throws TooLongFrameException when the greeting is longer than {@value #MAX_HELD} bytes
     */
    public ByteBuf filter(ByteBuf in) {
        if (passing) {
            return in;
        }
        if (held == null) {
            held = in.alloc().buffer(Math.min(MAX_HELD, Math.max(256, in.readableBytes())));
        }
        try {
            while (in.isReadable() && !passing) {
                byte b = in.readByte();
                if (held.readableBytes() == MAX_HELD) {
                    throw new TooLongFrameException("the server's greeting is longer than " + MAX_HELD + " bytes");
                }
                held.writeByte(b);
                if (b == '\n') {
                    line(held.toString(lineStart, held.writerIndex() - lineStart, java.nio.charset.StandardCharsets.ISO_8859_1).strip());
                    lineStart = held.writerIndex();
                }
            }
            if (!passing) {
                return null;
            }
            ByteBuf out = held.isReadable() ? held.retain() : null;
            if (in.isReadable()) {
                out = out == null ? in.retain() : in.alloc().compositeBuffer(2).addComponents(true, out, in.retain());
            }
            return out;
        } finally {
            in.release();
            if (passing) {
                held.release();
                held = null;
            }
        }
    }

    /** One complete line of what is held. */
    private void line(String text) {
        if (greeting) {
            if (!positive(text)) {
                passing = true; // a refusal: it goes on, held bytes and all
                return;
            }
            if (!complete(text)) {
                return;
            }
            greeting = false;
        } else if (!complete(text)) {
            return;
        } else {
            repliesLeft--;
        }
        // a whole greeting or reply to drop: the held bytes go
        held.clear();
        lineStart = 0;
        if (repliesLeft == 0) {
            passing = true;
        }
    }

    private boolean positive(String line) {
        return switch (protocol) {
            case IMAP -> line.startsWith("* OK") || line.startsWith("* PREAUTH");
            case POP3 -> line.startsWith("+OK");
            case LMTP -> line.startsWith("220");
        };
    }

    /** Whether {@code line} ends its reply: always in IMAP and POP3, the line without a dash after the code in LMTP. */
    private boolean complete(String line) {
        return protocol != MailProtocol.LMTP || line.length() < 4 || line.charAt(3) != '-';
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        ByteBuf out = filter(in);
        if (passing) {
            ctx.pipeline().remove(this);
        }
        if (out != null) {
            ctx.fireChannelRead(out);
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (held != null) {
            held.release();
            held = null;
        }
    }
}
