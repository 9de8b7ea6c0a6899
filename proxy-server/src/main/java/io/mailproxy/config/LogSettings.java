package io.mailproxy.config;

/**
 * How mailproxy logs.
 *
 * @param maxPendingLines lines waiting to be written (the writer never blocks an event loop); beyond
 *     this, lines are dropped and counted
 */
public record LogSettings(int maxPendingLines) {
    public LogSettings {
        if (maxPendingLines < 1) {
            throw new IllegalArgumentException("max-pending-lines must be at least 1");
        }
    }
}
