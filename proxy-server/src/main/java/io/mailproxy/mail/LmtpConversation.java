package io.mailproxy.mail;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Locale;

/**
 * LMTP (RFC 2033): follows commands and replies, pipelined or not, to know when a delivery is in
 * flight. After the client's end of data (the lone dot of DATA, or the last byte of
 * {@code BDAT ... LAST}, RFC 3030) the server owes one reply per accepted recipient; until they
 * have all come, a close by the server leaves the client not knowing which recipients got the
 * message, and a cut by mailproxy would do the same.
 *
 * <p>Commands wait in a FIFO for their replies (replies come in command order). A client that
 * breaks the protocol (a body without waiting for 354, more than {@value #MAX_PENDING} commands
 * unanswered) makes the conversation give up following: it then reports no transaction and reads
 * every server close as abrupt, which is the cautious reading.
 */
final class LmtpConversation implements Conversation {

    /** RFC 5321 4.5.3.1.4: a command line is at most 512 octets; longer ones are not commands we follow. */
    private static final int MAX_LINE = 512;
    private static final int MAX_PENDING = 1000;

    private enum Kind { MAIL, RCPT, DATA, BDAT, BDAT_LAST, END_OF_DATA, RSET, QUIT, OTHER }

    /** A command waiting for its reply; an end of data waits for one reply per accepted recipient. */
    private static final class Pending {
        final Kind kind;
        /** END_OF_DATA and BDAT_LAST: replies still owed, -1 until the entry reaches the head. */
        int owed = -1;
        /** BDAT_LAST: its chunk has been sent in full. */
        boolean dataComplete;

        Pending(Kind kind) {
            this.kind = kind;
        }
    }

    private enum ClientMode { COMMAND, DATA, CHUNK }

    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private final Line clientLine = new Line();
    private final Line serverLine = new Line();
    private ClientMode mode = ClientMode.COMMAND;
    /** DATA mode: 0 at a line start, 1 after a leading '.', 2 after ".\r", 3 inside a line. */
    private int dataState;
    private long chunkLeft;
    private Pending chunkOf;
    private boolean transaction;
    private int acceptedRecipients;
    private boolean goodbye;
    private boolean lost;

    @Override
    public void fromClient(ByteBuf buf) {
        if (lost) {
            return;
        }
        int i = buf.readerIndex();
        int end = buf.writerIndex();
        while (i < end && !lost) {
            switch (mode) {
                case COMMAND -> {
                    byte b = buf.getByte(i++);
                    if (clientLine.add(b)) {
                        command(clientLine.take());
                    }
                }
                case DATA -> i = data(buf, i, end);
                case CHUNK -> {
                    long n = Math.min(chunkLeft, end - i);
                    chunkLeft -= n;
                    i += (int) n;
                    if (chunkLeft == 0) {
                        if (chunkOf != null) {
                            chunkOf.dataComplete = true;
                        }
                        mode = ClientMode.COMMAND;
                    }
                }
                default -> throw new IllegalStateException(mode.toString());
            }
        }
    }

    /** Scans message data for the line holding a lone dot; returns where it stopped. */
    private int data(ByteBuf buf, int from, int end) {
        for (int i = from; i < end; i++) {
            byte b = buf.getByte(i);
            switch (dataState) {
                case 0 -> dataState = b == '.' ? 1 : b == '\n' ? 0 : 3;
                case 1 -> dataState = b == '\r' ? 2 : b == '\n' ? endOfData() : 3;
                case 2 -> dataState = b == '\n' ? endOfData() : 3;
                default -> {
                    // inside a line: jump to its end
                    int nl = buf.forEachByte(i, end - i, ByteProcessor.FIND_LF);
                    if (nl < 0) {
                        return end;
                    }
                    i = nl;
                    dataState = 0;
                }
            }
            if (mode != ClientMode.DATA) {
                return i + 1;
            }
        }
        return end;
    }

    private int endOfData() {
        mode = ClientMode.COMMAND;
        push(new Pending(Kind.END_OF_DATA));
        return 0;
    }

    private void command(String line) {
        String upper = line.toUpperCase(Locale.ROOT);
        String verb = upper.split(" ", 2)[0].trim();
        switch (verb) {
            case "MAIL" -> push(new Pending(Kind.MAIL));
            case "RCPT" -> push(new Pending(Kind.RCPT));
            case "DATA" -> push(new Pending(Kind.DATA));
            case "RSET" -> push(new Pending(Kind.RSET));
            case "QUIT" -> push(new Pending(Kind.QUIT));
            case "BDAT" -> bdat(upper);
            default -> push(new Pending(Kind.OTHER));
        }
    }

    private void bdat(String upper) {
        String[] words = upper.trim().split("\\s+");
        long size;
        try {
            size = words.length >= 2 ? Long.parseLong(words[1]) : -1;
        } catch (NumberFormatException e) {
            size = -1;
        }
        if (size < 0) {
            lost = true;
            return;
        }
        boolean last = words.length >= 3 && words[2].equals("LAST");
        Pending p = new Pending(last ? Kind.BDAT_LAST : Kind.BDAT);
        push(p);
        chunkOf = last ? p : null;
        chunkLeft = size;
        if (size > 0) {
            mode = ClientMode.CHUNK;
        } else {
            p.dataComplete = true;
        }
    }

    private void push(Pending p) {
        if (pending.size() >= MAX_PENDING) {
            lost = true;
            return;
        }
        pending.add(p);
    }

    @Override
    public void fromServer(ByteBuf buf) {
        if (lost) {
            return;
        }
        for (int i = buf.readerIndex(), end = buf.writerIndex(); i < end; i++) {
            if (serverLine.add(buf.getByte(i))) {
                reply(serverLine.take());
            }
        }
    }

    private void reply(String line) {
        if (line.length() < 3 || !Character.isDigit(line.charAt(0)) || !Character.isDigit(line.charAt(1))
                || !Character.isDigit(line.charAt(2))) {
            return;
        }
        if (line.length() > 3 && line.charAt(3) == '-') {
            return; // a continuation line: the reply ends with its last line
        }
        int code = Integer.parseInt(line.substring(0, 3));
        if (code == 421) {
            goodbye = true;
        }
        Pending p = pending.peek();
        if (p == null) {
            return; // the greeting, or an unsolicited 421
        }
        boolean ok = code / 100 == 2;
        switch (p.kind) {
            case MAIL -> {
                pending.poll();
                if (ok) {
                    transaction = true;
                    acceptedRecipients = 0;
                }
            }
            case RCPT -> {
                pending.poll();
                if (ok) {
                    acceptedRecipients++;
                }
            }
            case DATA -> {
                pending.poll();
                if (code == 354) {
                    mode = ClientMode.DATA;
                    dataState = 0;
                }
            }
            case END_OF_DATA, BDAT_LAST -> {
                if (p.owed < 0) {
                    p.owed = Math.max(1, acceptedRecipients);
                }
                if (--p.owed == 0) {
                    pending.poll();
                    transaction = false;
                    acceptedRecipients = 0;
                }
            }
            case RSET -> {
                pending.poll();
                transaction = false;
                acceptedRecipients = 0;
            }
            case QUIT -> {
                pending.poll();
                if (code == 221) {
                    goodbye = true;
                }
            }
            default -> pending.poll();
        }
    }

    @Override
    public Ending serverEnding() {
        if (deliveryPending()) {
            return Ending.ABRUPT_IN_DELIVERY;
        }
        return goodbye && !lost ? Ending.GOODBYE : Ending.ABRUPT;
    }

    @Override
    public boolean inTransaction() {
        if (lost) {
            return false;
        }
        if (transaction) {
            return true;
        }
        for (Pending p : pending) {
            if (p.kind != Kind.OTHER && p.kind != Kind.QUIT && p.kind != Kind.RSET) {
                return true;
            }
        }
        return mode != ClientMode.COMMAND;
    }

    @Override
    public boolean deliveryPending() {
        if (lost) {
            return false;
        }
        for (Pending p : pending) {
            if (p.kind == Kind.END_OF_DATA || p.kind == Kind.BDAT_LAST && p.dataComplete) {
                return true;
            }
        }
        return false;
    }

    /** One line being read, up to {@value #MAX_LINE} octets (the rest of a longer line is dropped). */
    private static final class Line {
        private final byte[] bytes = new byte[MAX_LINE];
        private int length;

        /** Adds a byte; true when it ended the line. */
        boolean add(byte b) {
            if (b == '\n') {
                return true;
            }
            if (length < bytes.length) {
                bytes[length++] = b;
            }
            return false;
        }

        /** The line read (without CR LF), and a fresh start. */
        String take() {
            int n = length > 0 && bytes[length - 1] == '\r' ? length - 1 : length;
            length = 0;
            return new String(bytes, 0, n, StandardCharsets.ISO_8859_1);
        }
    }
}
