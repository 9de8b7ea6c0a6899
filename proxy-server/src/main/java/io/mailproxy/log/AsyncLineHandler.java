package io.mailproxy.log;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.LogRecord;

/**
 * A log handler that never blocks the thread that logs: lines are formatted by the caller and
 * queued (at most {@code capacity}); a thread of its own writes them out. When the output is slower
 * than the lines (journald applying back-pressure, a full pipe), the queue fills and further lines
 * are dropped and counted; once the output moves again, one line says how many were lost, as
 * HAProxy does for its syslog buffer.
 */
final class AsyncLineHandler extends Handler {

    /** Where the writer thread puts lines: standard output, or syslog datagrams. */
    interface Sink {
        /** Writes one formatted line; may block (only the writer thread calls it). */
        void write(String line) throws java.io.IOException;

        /** After a batch. */
        default void flush() {
        }
    }

    /** Lines written to the output before each flush, at most. */
    private static final int BATCH = 256;

    private final Sink out;
    private final BlockingQueue<String> queue;
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong droppedTotal = new AtomicLong();
    private final AtomicLong written = new AtomicLong();
    /** Lines accepted and not yet written and flushed. */
    private final AtomicLong unwritten = new AtomicLong();
    private final Thread writer;

    AsyncLineHandler(PrintStream out, Formatter formatter, int capacity) {
        this(new Sink() {
            @Override
            public void write(String line) {
                out.print(line);
            }

            @Override
            public void flush() {
                out.flush();
            }
        }, formatter, capacity);
    }

    AsyncLineHandler(Sink out, Formatter formatter, int capacity) {
        this.out = out;
        this.queue = new ArrayBlockingQueue<>(capacity);
        setFormatter(formatter);
        writer = new Thread(this::write, "mailproxy-log");
        // A stalled output must never keep the process alive.
        writer.setDaemon(true);
        writer.start();
    }

    @Override
    public void publish(LogRecord record) {
        if (!isLoggable(record)) {
            return;
        }
        String line;
        try {
            line = getFormatter().format(record);
        } catch (RuntimeException e) {
            line = record.getLevel() + " " + record.getLoggerName() + ": " + record.getMessage() + System.lineSeparator();
        }
        unwritten.incrementAndGet();
        if (!queue.offer(line)) {
            unwritten.decrementAndGet();
            dropped.incrementAndGet();
            droppedTotal.incrementAndGet();
        }
    }

    private void write() {
        List<String> batch = new ArrayList<>(BATCH);
        while (true) {
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                return;
            }
            queue.drainTo(batch, BATCH - 1);
            int taken = batch.size();
            int sent = 0;
            for (String line : batch) {
                if (send(line)) {
                    sent++;
                }
            }
            written.addAndGet(sent);
            batch.clear();
            long lost = dropped.getAndSet(0);
            if (lost > 0) {
                send(getFormatter().format(new LogRecord(java.util.logging.Level.WARNING, lost
                        + " log line(s) dropped: the output did not keep up (log.max-pending-lines)")));
            }
            out.flush();
            unwritten.addAndGet(-taken);
        }
    }

    /** Writes one line; a line the sink refuses (syslog unreachable) is counted as dropped. */
    private boolean send(String line) {
        try {
            out.write(line);
            return true;
        } catch (java.io.IOException | RuntimeException e) {
            droppedTotal.incrementAndGet();
            return false;
        }
    }

    /** Lines dropped since the start. */
    long dropped() {
        return droppedTotal.get();
    }

    /** Lines written since the start. */
    long written() {
        return written.get();
    }

    /** Waits up to {@code timeout} for the queued lines to be written; true when they were. */
    boolean drain(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (unwritten.get() > 0 || dropped.get() > 0) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            try {
                TimeUnit.MILLISECONDS.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    @Override
    public void flush() {
        // the writer flushes after each batch; a caller never waits on the output here
    }

    @Override
    public void close() {
        // Never close the process's standard output: the lines still queued are written by drain().
    }
}
