package io.mailproxy.mail;

import io.netty.buffer.ByteBuf;
import java.util.Locale;

/**
 * IMAP: a server says goodbye with an untagged {@code BYE} (RFC 9051 7.1.5), before the tagged OK
 * to LOGOUT or alone when it disconnects a client (shutdown, inactivity). Only the server's last
 * bytes are kept; they are read when it closes.
 */
final class ImapConversation implements Conversation {

    /** Enough for "* BYE ..." followed by the tagged reply to LOGOUT. */
    private static final int TAIL = 512;

    private final Tail server = new Tail(TAIL);

    @Override
    public void fromClient(ByteBuf buf) {
    }

    @Override
    public void fromServer(ByteBuf buf) {
        server.add(buf);
    }

    @Override
    public Ending serverEnding() {
        for (String line : server.lines()) {
            if (line.toUpperCase(Locale.ROOT).startsWith("* BYE")) {
                return Ending.GOODBYE;
            }
        }
        return Ending.ABRUPT;
    }

    @Override
    public boolean inTransaction() {
        return false;
    }

    @Override
    public boolean deliveryPending() {
        return false;
    }
}
