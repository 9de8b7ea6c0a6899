package io.mailproxy.proxyprotocol;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/** Helpers for the value types: defensive copies with a length limit, and readable toString. */
final class Values {

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private Values() {
    }

    static byte[] checkedCopy(byte[] value, int maxLength, String what) {
        Objects.requireNonNull(value, what);
        if (value.length > maxLength) {
            throw new IllegalArgumentException(
                    what + " length (" + value.length + ") exceeds the allowed maximum (" + maxLength + ")");
        }
        return value.clone();
    }

    static String text(byte[] value) {
        return '"' + new String(value, StandardCharsets.UTF_8) + '"';
    }

    static String hex(byte[] value) {
        StringBuilder sb = new StringBuilder(value.length * 2);
        for (byte b : value) {
            sb.append(HEX[(b >> 4) & 0xF]).append(HEX[b & 0xF]);
        }
        return sb.toString();
    }
}
