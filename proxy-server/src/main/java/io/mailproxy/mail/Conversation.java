package io.mailproxy.mail;

import io.netty.buffer.ByteBuf;

/**
 * What mailproxy follows of one session's mail conversation while it relays it: just enough to
 * tell a server's goodbye from a server's crash, and (LMTP) whether a delivery is in flight.
 * mailproxy never answers on a server's behalf; this only watches.
 *
 * <p>Cheap on purpose: IMAP and POP3 keep the last few hundred bytes of each direction and look at
 * them only when the server closes; LMTP follows commands and replies (its traffic is deliveries,
 * where knowing what was acknowledged is the point).
 *
 * <p>Not thread-safe: one per session, on the session's event loop.
 */
public interface Conversation {

    /** How the server ended the session, as far as the conversation shows. */
    enum Ending {
        /** After its goodbye: IMAP {@code * BYE}, POP3's reply to QUIT (or a final -ERR), LMTP 221 or 421. */
        GOODBYE,
        /** Without a goodbye: the server was killed, crashed, or was cut off. */
        ABRUPT,
        /** LMTP: after the client's end of DATA and before every reply to it. */
        ABRUPT_IN_DELIVERY
    }

    /** Bytes the client sent, about to be relayed: readable bytes of {@code buf}, not consumed. */
    void fromClient(ByteBuf buf);

    /** Bytes the server sent, about to be relayed. */
    void fromServer(ByteBuf buf);

    /** How a close by the server now would read. */
    Ending serverEnding();

    /**
     * Whether cutting the session now could lose or duplicate a message: LMTP between a
     * MAIL FROM and the last reply to its data. Always false for IMAP and POP3.
     */
    boolean inTransaction();

    /** Whether the client has sent its end of data and not every reply to it has come (LMTP). */
    boolean deliveryPending();

    /** A new conversation of {@code protocol}. */
    static Conversation of(MailProtocol protocol) {
        return switch (protocol) {
            case IMAP -> new ImapConversation();
            case POP3 -> new Pop3Conversation();
            case LMTP -> new LmtpConversation();
        };
    }
}
