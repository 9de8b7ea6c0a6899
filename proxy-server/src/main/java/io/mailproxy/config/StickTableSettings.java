package io.mailproxy.config;

import java.time.Duration;
import java.util.Objects;

/**
 * A stick table as configured: a backend's own ({@code backends.X.stick-table { ... }}) or one
 * named under {@code mailproxy.stick-tables} and shared by every backend that names it.
 *
 * @param name   the table's name: the top-level name of a shared table, the backend's name of a
 *               private one (for logs)
 * @param shared whether several backends may use the table (it is named under
 *               {@code mailproxy.stick-tables}), so that one instance must be built for all of them
 * @param size   the most entries the table holds; beyond it the least recently used entry goes
 * @param expire how long an entry lives after its last use, or null: entries never expire and
 *               leave only when the table is full
 */
public record StickTableSettings(String name, boolean shared, int size, Duration expire) {

    /** The largest {@code size}: 2^26 entries, about 2.4 GB of heap at 36 bytes each. */
    public static final int MAX_SIZE = 1 << 26;

    public StickTableSettings {
        Objects.requireNonNull(name, "name");
        if (size < 1 || size > MAX_SIZE) {
            throw new IllegalArgumentException("size " + size + " is not within 1.." + MAX_SIZE);
        }
        if (expire != null && (expire.isNegative() || expire.isZero())) {
            throw new IllegalArgumentException("expire must be longer than zero, was " + expire);
        }
    }
}
