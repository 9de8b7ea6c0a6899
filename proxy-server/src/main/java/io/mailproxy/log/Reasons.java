package io.mailproxy.log;

/** Turns an exception into the short detail a log line carries (never a stack trace). */
public final class Reasons {

    private static final int MAX = 160;

    private Reasons() {
    }

    public static String of(Throwable cause) {
        Throwable t = cause;
        while (t.getCause() != null && t.getCause() != t && (t.getMessage() == null || t instanceof io.netty.handler.codec.DecoderException)) {
            t = t.getCause();
        }
        String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        // epoll's native errors read "finishConnect(..) failed with error(-111): Connection refused".
        message = message.replaceFirst("^\\w+\\(\\.\\.\\) failed with error\\(-?\\d+\\): ", "");
        message = message.replaceAll("[\\r\\n\\t]+", " ");
        return message.length() > MAX ? message.substring(0, MAX) + "..." : message;
    }
}
