package io.mailproxy.log;

import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Logging for the program: one line per event on standard output, with no stack traces (the
 * cause's message is appended instead), written by a thread of its own so that a slow output never
 * holds up an event loop. Netty's own loggers report warnings and worse only.
 */
public final class LogSetup {

    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", Locale.ROOT).withZone(ZoneId.systemDefault());

    private LogSetup() {
    }

    /**
     * Must run first in {@code main}, before anything touches java.util.logging: installs a
     * LogManager that keeps its handlers through JVM shutdown. The JDK's own manager resets itself
     * in a shutdown hook, which would silence the lines mailproxy logs while it stops.
     */
    public static void keepLoggingThroughShutdown() {
        System.setProperty("java.util.logging.manager", KeepLogManager.class.getName());
    }

    /** A LogManager whose shutdown-time reset is a no-op; see {@link #keepLoggingThroughShutdown}. */
    public static final class KeepLogManager extends LogManager {
        private volatile boolean configured;

        @Override
        public void reset() {
            // The first reset is LogSetup.install's own; later ones come from the JDK's shutdown hook.
            if (!configured) {
                super.reset();
            }
        }

        void configured() {
            configured = true;
        }
    }

    /** Replaces the JDK's default console handler with the one-line format, written asynchronously. */
    public static void install(PrintStream out) {
        install(out, DEFAULT_MAX_PENDING_LINES);
    }

    /** The lines that may wait to be written when the configuration does not say. */
    public static final int DEFAULT_MAX_PENDING_LINES = 10_000;

    private static volatile AsyncLineHandler handler;

    /**
     * Replaces the JDK's default console handler with the one-line format; a thread of its own writes
     * the lines, at most {@code maxPendingLines} waiting (see {@link AsyncLineHandler}).
     */
    public static synchronized void install(PrintStream out, int maxPendingLines) {
        use(new AsyncLineHandler(out, new OneLine(), maxPendingLines));
    }

    /** Makes {@code h} the root logger's only handler. */
    private static void use(AsyncLineHandler h) {
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        h.setLevel(Level.ALL);
        root.addHandler(h);
        root.setLevel(Level.INFO);
        Logger.getLogger("io.netty").setLevel(Level.WARNING);
        if (LogManager.getLogManager() instanceof KeepLogManager keep) {
            keep.configured();
        }
        handler = h;
    }

    /**
     * Logging as {@code mailproxy.log} says: standard output, or syslog in the chosen format, through
     * the same asynchronous writer.
     *
     * @throws java.io.IOException when the syslog socket cannot be opened
     */
    public static synchronized void install(PrintStream out, io.mailproxy.config.LogSettings settings)
            throws java.io.IOException {
        if (settings.target() == io.mailproxy.config.LogSettings.Target.STDOUT) {
            install(out, settings.maxPendingLines());
            return;
        }
        use(new AsyncLineHandler(SyslogSink.open(settings), new SyslogFormat(settings), settings.maxPendingLines()));
    }

    /**
     * Waits up to {@code timeout} for the lines logged so far to be written (the output may be
     * stalled: then they are given up). Returns whether every line was written.
     */
    public static boolean drain(Duration timeout) {
        AsyncLineHandler h = handler;
        return h == null || h.drain(timeout);
    }

    /** Lines dropped because the output did not keep up, since {@link #install}. */
    public static long droppedLines() {
        AsyncLineHandler h = handler;
        return h == null ? 0 : h.dropped();
    }

    /** {@code 2026-11-21T10:15:02.114+01:00 INFO mailproxy.session: <message>[: cause]}. */
    static final class OneLine extends Formatter {
        @Override
        public String format(LogRecord r) {
            StringBuilder b = new StringBuilder(200)
                    .append(TIME.format(Instant.ofEpochMilli(r.getMillis()))).append(' ')
                    .append(r.getLevel().getName()).append(' ')
                    .append(shortName(r.getLoggerName())).append(": ")
                    .append(formatMessage(r));
            if (r.getThrown() != null) {
                b.append(": ").append(r.getThrown());
            }
            return b.append(System.lineSeparator()).toString();
        }

        private static String shortName(String name) {
            if (name == null) {
                return "-";
            }
            if (name.startsWith("io.mailproxy.")) {
                return name.substring(name.lastIndexOf('.') + 1);
            }
            return name;
        }
    }
}
