package io.mailproxy.mail;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/** The last bytes of one direction of a session, in order, and whether they reach back to its start. */
final class Tail {

    private final byte[] bytes;
    private int length;
    private long seen;

    Tail(int capacity) {
        bytes = new byte[capacity];
    }

    void add(ByteBuf buf) {
        int n = buf.readableBytes();
        seen += n;
        int cap = bytes.length;
        if (n >= cap) {
            buf.getBytes(buf.writerIndex() - cap, bytes, 0, cap);
            length = cap;
            return;
        }
        int keep = Math.min(length, cap - n);
        System.arraycopy(bytes, length - keep, bytes, 0, keep);
        buf.getBytes(buf.readerIndex(), bytes, keep, n);
        length = keep + n;
    }

    /**
     * The complete lines held (each without its line end), oldest first: the first partial line is
     * dropped unless the tail reaches back to the start of the stream, and so is a last line without
     * its line feed.
     */
    String[] lines() {
        int start = 0;
        if (seen > length) {
            while (start < length && bytes[start] != '\n') {
                start++;
            }
            start++;
        }
        int end = length;
        while (end > start && bytes[end - 1] != '\n') {
            end--;
        }
        if (end <= start) {
            return new String[0];
        }
        String text = new String(bytes, start, end - start, StandardCharsets.ISO_8859_1);
        String[] lines = text.split("\n", -1);
        String[] out = new String[lines.length - 1];
        for (int i = 0; i < out.length; i++) {
            String l = lines[i];
            out[i] = l.endsWith("\r") ? l.substring(0, l.length() - 1) : l;
        }
        return out;
    }

    /** The last complete line, or null. */
    String lastLine() {
        String[] lines = lines();
        return lines.length == 0 ? null : lines[lines.length - 1];
    }
}
