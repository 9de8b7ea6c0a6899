package io.mailproxy.mail;

import io.netty.buffer.ByteBuf;
import java.util.Locale;

/**
 * POP3: a server says goodbye with {@code +OK} to the client's QUIT (RFC 1939 6), or ends a session
 * itself with a final {@code -ERR} line (inactivity, shutdown). The last bytes of each direction
 * are kept and read when the server closes.
 */
final class Pop3Conversation implements Conversation {

    private final Tail client = new Tail(64);
    private final Tail server = new Tail(256);

    @Override
    public void fromClient(ByteBuf buf) {
        client.add(buf);
    }

    @Override
    public void fromServer(ByteBuf buf) {
        server.add(buf);
    }

    @Override
    public Ending serverEnding() {
        String reply = server.lastLine();
        if (reply == null) {
            return Ending.ABRUPT;
        }
        if (reply.startsWith("-ERR")) {
            return Ending.GOODBYE;
        }
        String command = client.lastLine();
        boolean quit = command != null && command.trim().toUpperCase(Locale.ROOT).equals("QUIT");
        return quit && reply.startsWith("+OK") ? Ending.GOODBYE : Ending.ABRUPT;
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
