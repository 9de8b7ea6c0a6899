package io.mailproxy.checks;

/**
 * How many servers of a backend are usable after a transition, as HAProxy reports them in its
 * state change lines. The backend owns these numbers; the checker only prints them.
 *
 * @param active usable non-backup servers
 * @param backup usable backup servers
 */
public record ServerCounts(int active, int backup) {

    /** Validates. */
    public ServerCounts {
        if (active < 0 || backup < 0) {
            throw new IllegalArgumentException("counts (" + active + ", " + backup + ") must not be negative");
        }
    }
}
