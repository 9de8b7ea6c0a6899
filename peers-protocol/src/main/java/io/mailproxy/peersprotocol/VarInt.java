package io.mailproxy.peersprotocol;

import io.netty.buffer.ByteBuf;

/**
 * The peers protocol's variable-length unsigned integers ({@code intencode}/{@code intdecode} in
 * HAProxy's {@code src/peers.c}): values below 240 take one byte; above, the first byte is
 * {@code 0xF0 | low 4 bits} and each next byte carries 7 bits, with its top bit set while more
 * follow. Each continuation byte also counts the offset of the shorter forms, so every value has
 * exactly one encoding:
 *
 * <pre>
 *        0 <= X < 240         1 byte
 *      240 <= X < 2288        2 bytes
 *     2288 <= X < 264432      3 bytes
 *   264432 <= X < 33818864    4 bytes
 * 33818864 <= X < 4328786160  5 bytes   ... up to 10 bytes for 64 bits
 * </pre>
 */
public final class VarInt {

    /** The longest encoding: 4 + 9 x 7 bits cover 64 bits. */
    public static final int MAX_BYTES = 10;

    private static final int TWO_BYTES_MIN = 0xF0;
    private static final int FIRST_BITS = 4;
    private static final int STOP_BYTE = 0x80;
    private static final int BITS = 7;

    private VarInt() {
    }

    /** Writes {@code value}, read as unsigned 64 bits. */
    public static void write(ByteBuf out, long value) {
        if (Long.compareUnsigned(value, TWO_BYTES_MIN) < 0) {
            out.writeByte((int) value);
            return;
        }
        out.writeByte((int) value | TWO_BYTES_MIN);
        long i = (value - TWO_BYTES_MIN) >>> FIRST_BITS;
        while (Long.compareUnsigned(i, STOP_BYTE) >= 0) {
            out.writeByte((int) i | STOP_BYTE);
            i = (i - STOP_BYTE) >>> BITS;
        }
        out.writeByte((int) i);
    }

    /** The number of bytes {@link #write} takes for {@code value}. */
    public static int length(long value) {
        if (Long.compareUnsigned(value, TWO_BYTES_MIN) < 0) {
            return 1;
        }
        int n = 2;
        long i = (value - TWO_BYTES_MIN) >>> FIRST_BITS;
        while (Long.compareUnsigned(i, STOP_BYTE) >= 0) {
            i = (i - STOP_BYTE) >>> BITS;
            n++;
        }
        return n;
    }

    /**
     * Reads one value from {@code in}'s readable bytes.
     *
     * @param what what the value is, for the error
     * @throws PeerProtocolException {@link PeerProtocolError#PEER_BAD_VARINT} when the bytes end in
     *     the middle of the value, or it runs past {@value #MAX_BYTES} bytes or 64 bits
     */
    public static long read(ByteBuf in, String what) {
        long i = readOrMissing(in, what);
        if (i == MISSING) {
            throw new PeerProtocolException(PeerProtocolError.PEER_BAD_VARINT,
                    what + " ends after " + in.readableBytes() + " byte(s), in the middle of its encoding");
        }
        return i;
    }

    /** What {@link #readOrMissing} returns when the bytes end first; no value decodes to it. */
    static final long MISSING = Long.MIN_VALUE;

    /**
     * Reads one value, or returns {@link #MISSING} with nothing consumed when {@code in} ends in the
     * middle of it (a length still arriving).
     */
    static long readOrMissing(ByteBuf in, String what) {
        int start = in.readerIndex();
        int end = in.writerIndex();
        if (start >= end) {
            return MISSING;
        }
        int p = start;
        long i = in.getByte(p++) & 0xFF;
        if (i >= TWO_BYTES_MIN) {
            int shift = FIRST_BITS;
            int b;
            do {
                if (p >= end) {
                    return MISSING;
                }
                if (p - start >= MAX_BYTES) {
                    throw new PeerProtocolException(PeerProtocolError.PEER_BAD_VARINT,
                            what + " takes more than " + MAX_BYTES + " bytes");
                }
                b = in.getByte(p++) & 0xFF;
                long add = (long) b << shift;
                if (shift >= 64 || (add >>> shift) != b || Long.compareUnsigned(i + add, i) < 0) {
                    throw new PeerProtocolException(PeerProtocolError.PEER_BAD_VARINT, what + " exceeds 64 bits");
                }
                i += add;
                shift += BITS;
            } while (b >= STOP_BYTE);
        }
        in.readerIndex(p);
        return i;
    }
}
