package io.mailproxy.config;

import java.time.Duration;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
 * @param peers  whether the table is synced with the nodes of {@code mailproxy.peers}
 */
public record StickTableSettings(String name, boolean shared, int size, Duration expire, boolean peers) {

    /** The largest {@code size}: 2^26 entries, about 2.4 GB of heap at 36 bytes each. */
    public static final int MAX_SIZE = 1 << 26;

    /** A number of entries with HAProxy's size suffixes: k, m, g for 2^10, 2^20, 2^30. */
    private static final Pattern SIZE = Pattern.compile("(?i)\\s*(\\d{1,10})\\s*([kmg]?)\\s*");

    public StickTableSettings {
        Objects.requireNonNull(name, "name");
        if (size < 1 || size > MAX_SIZE) {
            throw new IllegalArgumentException("size " + size + " is not within 1.." + MAX_SIZE);
        }
        if (expire != null && (expire.isNegative() || expire.isZero())) {
            throw new IllegalArgumentException("expire must be longer than zero, was " + expire);
        }
    }

    /** A table not synced with peers. */
    public StickTableSettings(String name, boolean shared, int size, Duration expire) {
        this(name, shared, size, expire, false);
    }

    /**
     * A table under {@code mailproxy.stick-tables} ({@code shared}) or a backend's own, over
     * {@code mailproxy.defaults.stick-table}.
     */
    static StickTableSettings read(ConfigReader r, String name, boolean shared) {
        int size = r.parsed("size", StickTableSettings::size);
        Duration expire = r.optionalDuration("expire");
        boolean peers = r.bool("peers");
        return new StickTableSettings(name, shared, size, expire, peers);
    }

    private static int size(String text) {
        Matcher m = SIZE.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException(
                    "expected a number of entries like 200000, 200k or 1m (k = 1024, m = 1048576), found " + text);
        }
        int shift = switch (m.group(2).toLowerCase()) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            default -> 0;
        };
        long entries = Long.parseLong(m.group(1)) << shift;
        if (entries < 1 || entries > MAX_SIZE) {
            throw new IllegalArgumentException(text + " (" + entries + " entries) is not within 1.." + MAX_SIZE + " (64m)");
        }
        return (int) entries;
    }
}
