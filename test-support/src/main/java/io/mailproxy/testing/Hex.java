package io.mailproxy.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;

/**
 * Test vectors in commented hex, for the protocol modules' tests: whitespace is ignored, and '#'
 * starts a comment running to the end of the line.
 */
public final class Hex {

    private Hex() {
    }

    public static byte[] bytes(String commented) {
        StringBuilder hex = new StringBuilder();
        for (String line : commented.split("\n")) {
            int comment = line.indexOf('#');
            hex.append((comment >= 0 ? line.substring(0, comment) : line).replaceAll("\\s", ""));
        }
        return ByteBufUtil.decodeHexDump(hex);
    }

    public static ByteBuf buf(String commented) {
        return Unpooled.wrappedBuffer(bytes(commented));
    }

    /** Reads all readable bytes as hex and releases the buffer. */
    public static String drain(ByteBuf buf) {
        try {
            return ByteBufUtil.hexDump(buf);
        } finally {
            buf.release();
        }
    }

    public static String hex(String commented) {
        return ByteBufUtil.hexDump(bytes(commented));
    }
}
