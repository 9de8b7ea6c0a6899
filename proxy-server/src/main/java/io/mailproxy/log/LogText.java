package io.mailproxy.log;

/**
 * Text from a peer made safe for a log line: what a client chose (an SNI name, a command) must not
 * be able to end the line, forge another, or send escape sequences to a terminal.
 */
public final class LogText {

    /** The most characters of a peer's text a line carries. */
    public static final int MAX = 80;

    private LogText() {
    }

    /**
     * {@code text} in double quotes, with every character outside printable ASCII, the quote and the
     * backslash written as {@code \xNN} (a character above 0xFF as {@code \\uNNNN}), cut at
     * {@link #MAX} characters with {@code ...}.
     */
    public static String quote(String text) {
        if (text == null) {
            return "-";
        }
        StringBuilder b = new StringBuilder(Math.min(text.length(), MAX) + 8).append('"');
        int n = Math.min(text.length(), MAX);
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
                b.append(c);
            } else if (c <= 0xFF) {
                b.append(String.format("\\x%02x", (int) c));
            } else {
                b.append(String.format("\\u%04x", (int) c));
            }
        }
        if (text.length() > MAX) {
            b.append("...");
        }
        return b.append('"').toString();
    }

    /** {@code text} with every control character (CR, LF, ESC...) replaced by a space: for details that are ours. */
    public static String oneLine(String text) {
        if (text == null) {
            return null;
        }
        StringBuilder b = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0)) {
                if (b == null) {
                    b = new StringBuilder(text);
                }
                b.setCharAt(i, ' ');
            }
        }
        return b == null ? text : b.toString();
    }
}
