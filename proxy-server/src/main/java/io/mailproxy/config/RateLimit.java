package io.mailproxy.config;

import java.time.Duration;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A connection rate: at most {@code connections} within any sliding {@code window}, written
 * {@code "20/10s"} in the configuration.
 */
public record RateLimit(int connections, Duration window) {

    /**
     * Each tracked source keeps up to one timestamp (8 bytes) per connection of its window: this
     * bounds a frontend's worst case to 16384 sources x 8 KB.
     */
    public static final int MAX_CONNECTIONS = 1_000;
    /** Longer windows would keep sources in memory for hours; a rate is a short-term measure. */
    public static final Duration MAX_WINDOW = Duration.ofHours(1);

    private static final Pattern SYNTAX = Pattern.compile("\\s*(\\d{1,9})\\s*/\\s*(\\d{1,9})\\s*(ms|s|m|h)\\s*");

    public RateLimit {
        Objects.requireNonNull(window, "window");
        if (connections < 1 || connections > MAX_CONNECTIONS) {
            throw new IllegalArgumentException(connections + " connections is not within 1.." + MAX_CONNECTIONS);
        }
        if (window.isNegative() || window.isZero() || window.compareTo(MAX_WINDOW) > 0) {
            throw new IllegalArgumentException("the window (" + window.toMillis() + "ms) is not within 1ms..1h");
        }
    }

    /**
     * Parses {@code "20/10s"}: a count, a slash, a window with its unit (ms, s, m or h).
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static RateLimit parse(String text) {
        Matcher m = SYNTAX.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("\"" + text + "\" is not a rate like \"20/10s\" (connections/window, "
                    + "the window in ms, s, m or h)");
        }
        long amount = Long.parseLong(m.group(2));
        Duration window = switch (m.group(3)) {
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            default -> Duration.ofHours(amount);
        };
        return new RateLimit(Integer.parseInt(m.group(1)), window);
    }

    @Override
    public String toString() {
        long ms = window.toMillis();
        return connections + "/" + (ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms");
    }
}
