package io.mailproxy.checks;

import java.util.Objects;

/**
 * The result of one check.
 *
 * @param status         what happened, in HAProxy's vocabulary
 * @param code           the protocol's reply code when there is one (SMTP/LMTP: {@code 250},
 *                       {@code 421}, ...), otherwise 0; printed only when {@link CheckStatus#reportsCode()}
 * @param durationMillis from the start of the connect to the result, in milliseconds
 * @param info           the offending reply line or a short reason, already encoded as HAProxy
 *                       encodes it in logs (see {@link #of}); empty when there is nothing to add
 * @param step           how far the check got when it ended: {@code connect}, {@code TLS handshake},
 *                       or what the conversation waited for ({@code the greeting},
 *                       {@code the CAPABILITY reply}); empty when unknown. HAProxy shows no such thing.
 */
public record CheckResult(CheckStatus status, int code, long durationMillis, String info, String step) {

    /** A result without a step. */
    public CheckResult(CheckStatus status, int code, long durationMillis, String info) {
        this(status, code, durationMillis, info, "");
    }

    /**
     * Longest {@link #info} kept, in characters after encoding. HAProxy keeps 127 bytes
     * ({@code HCHK_DESC_LEN}); 64 is enough to recognise a reply and keeps log lines short.
     */
    public static final int MAX_INFO_LENGTH = 64;

    /** Validates; {@code info} must already be encoded: use {@link #of} for raw text. */
    public CheckResult {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(info, "info");
        Objects.requireNonNull(step, "step");
        if (durationMillis < 0) {
            throw new IllegalArgumentException("duration (" + durationMillis + "ms) must not be negative");
        }
        if (info.length() > MAX_INFO_LENGTH) {
            throw new IllegalArgumentException("info length (" + info.length()
                    + ") exceeds the allowed maximum (" + MAX_INFO_LENGTH + ")");
        }
        for (int i = 0; i < info.length(); i++) {
            char c = info.charAt(i);
            // escapes contain '<' and '>', so only what never survives encoding is refused
            if (c < 0x20 || c > 0x7E || c == '"') {
                throw new IllegalArgumentException("info must be encoded, found character 0x"
                        + Integer.toHexString(c) + " at " + i + "; use CheckResult.of");
            }
        }
    }

    /**
     * A result from raw text (a reply line as received, one char per byte): encodes it the way
     * HAProxy's {@code chunk_asciiencode(..., '"')} does for its logs (every byte that is not
     * printable ASCII, and {@code <}, {@code >} and {@code "}, becomes {@code <XX>}), then cuts it to
     * {@link #MAX_INFO_LENGTH} without splitting an escape. A server's bytes can therefore never
     * forge a log line or break the quoting.
     */
    public static CheckResult of(CheckStatus status, int code, long durationMillis, String rawInfo) {
        return new CheckResult(status, code, durationMillis, encode(rawInfo == null ? "" : rawInfo));
    }

    /** As {@link #of(CheckStatus, int, long, String)}, saying how far the check got. */
    public static CheckResult of(CheckStatus status, int code, long durationMillis, String rawInfo, String step) {
        return new CheckResult(status, code, durationMillis, encode(rawInfo == null ? "" : rawInfo),
                step == null ? "" : step);
    }

    /** Whether this check counts as a success. */
    public boolean passed() {
        return status.passed();
    }

    static String encode(String raw) {
        StringBuilder out = new StringBuilder(Math.min(raw.length(), MAX_INFO_LENGTH));
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            String piece = needsEscape(c) ? String.format("<%02X>", (int) c & 0xFF) : String.valueOf(c);
            if (out.length() + piece.length() > MAX_INFO_LENGTH) {
                break;
            }
            out.append(piece);
        }
        return out.toString();
    }

    private static boolean needsEscape(char c) {
        return c < 0x20 || c > 0x7E || c == '<' || c == '>' || c == '"';
    }
}
