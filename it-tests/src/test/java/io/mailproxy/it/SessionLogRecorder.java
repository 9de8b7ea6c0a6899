package io.mailproxy.it;

import io.mailproxy.log.SessionLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.logging.Handler;
import java.util.logging.LogRecord;

/**
 * Collects the lines mailproxy logs to {@code mailproxy.session} (one per ended session) while it
 * is attached, so tests can assert on them.
 */
final class SessionLogRecorder extends Handler implements AutoCloseable {

    private final List<String> lines = new ArrayList<>();

    private SessionLogRecorder() {
    }

    /** Attaches a new recorder to the session logger. */
    static SessionLogRecorder attach() {
        SessionLogRecorder recorder = new SessionLogRecorder();
        SessionLog.LOGGER.addHandler(recorder);
        return recorder;
    }

    @Override
    public void publish(LogRecord record) {
        synchronized (lines) {
            lines.add(record.getMessage());
            lines.notifyAll();
        }
    }

    /** Every line recorded so far. */
    List<String> lines() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    /**
     * Waits for a line that matches; a session is logged only once both of its connections have
     * closed, which happens on mailproxy's event loop after the client has already moved on.
     *
     * @throws AssertionError with every recorded line when none matched in time
     */
    String await(Predicate<String> match, Duration timeout) {
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
                    throw new AssertionError("no matching session log line within " + timeout + "; recorded: " + lines);
                }
                try {
                    lines.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted while waiting for a session log line", e);
                }
            }
        }
    }

    /** The line of the session whose client used this source address and port. */
    String awaitClient(String ip, int port, Duration timeout) {
        String prefix = ip + ":" + port + " [";
        return await(line -> line.startsWith(prefix), timeout);
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        SessionLog.LOGGER.removeHandler(this);
    }
}
