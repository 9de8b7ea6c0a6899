package io.mailproxy.log;

/**
 * Text made safe for a log line: what a peer chose (an SNI name an engine quotes in its error, a
 * server's words) must not be able to end the line, forge another, or send escape sequences to a
 * terminal.
 */
public final class LogText {

    private LogText() {
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
