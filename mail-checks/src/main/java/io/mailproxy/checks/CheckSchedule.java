package io.mailproxy.checks;

import java.time.Duration;
import java.util.Objects;

/**
 * When to check one server and how many results change its state: HAProxy's {@code inter},
 * {@code fastinter}, {@code downinter}, {@code rise}, {@code fall} and {@code spread-checks}.
 *
 * @param interval      between checks while the server is steadily up ({@code inter})
 * @param fastInterval  while the server is changing state: up but after a failure, or down but
 *                      after a success ({@code fastinter})
 * @param downInterval  while the server is steadily down ({@code downinter})
 * @param rise          consecutive successes that bring a down server up
 * @param fall          consecutive failures that take an up server down
 * @param startUp       the state before the first check: up (HAProxy's behaviour: "up, but will fall
 *                      down at first failure") or down (needs {@code rise} successes first)
 * @param spreadPercent random jitter added to every interval, in percent (0..50): each delay moves
 *                      by up to half this share either way, as HAProxy's {@code spread-checks} does,
 *                      so servers checked together drift apart
 */
public record CheckSchedule(Duration interval, Duration fastInterval, Duration downInterval, int rise, int fall,
                            boolean startUp, int spreadPercent) {

    /** HAProxy's default {@code inter}. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(2);
    /** HAProxy's default {@code rise}. */
    public static final int DEFAULT_RISE = 2;
    /** HAProxy's default {@code fall}. */
    public static final int DEFAULT_FALL = 3;
    /**
     * Default jitter. HAProxy's default is 0, and its documentation recommends 2 to 5 for many
     * servers; we take 5 so a large farm spreads out without configuration.
     */
    public static final int DEFAULT_SPREAD_PERCENT = 5;
    /** HAProxy refuses {@code spread-checks} above 50. */
    public static final int MAX_SPREAD_PERCENT = 50;

    /** Validates. */
    public CheckSchedule {
        requirePositive(interval, "interval");
        requirePositive(fastInterval, "fastInterval");
        requirePositive(downInterval, "downInterval");
        if (rise < 1) {
            throw new IllegalArgumentException("rise (" + rise + ") must be at least 1");
        }
        if (fall < 1) {
            throw new IllegalArgumentException("fall (" + fall + ") must be at least 1");
        }
        if (spreadPercent < 0 || spreadPercent > MAX_SPREAD_PERCENT) {
            throw new IllegalArgumentException("spreadPercent (" + spreadPercent + ") must be within 0.."
                    + MAX_SPREAD_PERCENT);
        }
    }

    /** {@code inter 2s rise 2 fall 3}, fast and down intervals equal to the interval, starting up. */
    public static CheckSchedule defaults() {
        return every(DEFAULT_INTERVAL);
    }

    /** The defaults with another interval (fast and down intervals follow it, as in HAProxy). */
    public static CheckSchedule every(Duration interval) {
        return new CheckSchedule(interval, interval, interval, DEFAULT_RISE, DEFAULT_FALL, true,
                DEFAULT_SPREAD_PERCENT);
    }

    private static void requirePositive(Duration d, String name) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " (" + d + ") must be positive");
        }
    }
}
