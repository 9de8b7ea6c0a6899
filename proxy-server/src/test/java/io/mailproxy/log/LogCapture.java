package io.mailproxy.log;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Collects what one java.util.logging logger logs while attached, for assertions; shared with
 * it-tests through the test-jar. It holds the logger strongly: java.util.logging keeps loggers
 * only weakly, and a collected logger would take the handler with it.
 */
public final class LogCapture extends Handler implements AutoCloseable {

    private final Logger logger;
    private final List<String> lines = new ArrayList<>();

    private LogCapture(Logger logger) {
        this.logger = logger;
    }

    /** Captures the session log: one line per ended session. */
    public static LogCapture sessions() {
        return attach(SessionLog.LOGGER);
    }

    /** Captures the logger of that name. */
    public static LogCapture attach(String loggerName) {
        return attach(Logger.getLogger(loggerName));
    }

    private static LogCapture attach(Logger logger) {
        LogCapture capture = new LogCapture(logger);
        logger.addHandler(capture);
        return capture;
    }

    @Override
    public void publish(LogRecord record) {
        synchronized (lines) {
            lines.add(record.getMessage());
            lines.notifyAll();
        }
    }

    /** Every line captured so far. */
    public List<String> lines() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    /**
     * Waits for a matching line (a session is logged once both its connections have closed, on
     * mailproxy's event loop, after the client has moved on).
     *
     * @throws AssertionError listing every captured line when none matched in time
     */
    public String await(Predicate<String> match, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lines) {
            while (true) {
                for (String line : lines) {
                    if (match.test(line)) {
                        return line;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("no matching line within " + timeout + "; logged: " + lines);
                }
                try {
                    lines.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted while waiting for a log line", e);
                }
            }
        }
    }

    /** The session line of the client that used this source address and port. */
    public String awaitClient(String ip, int port, Duration timeout) {
        String prefix = ip + ":" + port + " [";
        return await(line -> line.startsWith(prefix), timeout);
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        logger.removeHandler(this);
    }
}
