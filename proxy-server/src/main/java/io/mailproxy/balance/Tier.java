package io.mailproxy.balance;

import java.util.List;

/**
 * Which servers may take a new session right now, as HAProxy decides it: the usable (UP, weight
 * above 0) normal servers while there is one; otherwise the usable backups, all of them with
 * {@code all-backups}, else only the first in configuration order. A server that a session already
 * tried stays in its tier: failing over to backups is the health check's decision, not one
 * session's (HAProxy's redispatch also stays among the active servers).
 *
 * <p>Decided afresh at each pick from the servers' volatile states, so a transition takes effect
 * for the very next session without any balancer bookkeeping.
 *
 * @param backups     whether the backups are in use (no normal server is usable)
 * @param firstBackup with backups in use and without {@code all-backups}: the one backup admitted
 */
public record Tier<S extends Candidate>(boolean backups, S firstBackup) {

    /** The tier for {@code servers} (in configuration order) as they are now. */
    public static <S extends Candidate> Tier<S> of(List<S> servers, boolean allBackups) {
        S first = null;
        for (S s : servers) {
            if (s.usable()) {
                if (!s.backup()) {
                    return new Tier<>(false, null);
                }
                if (first == null) {
                    first = s;
                }
            }
        }
        return new Tier<>(true, allBackups ? null : first);
    }

    /** Whether {@code s} may take the next session. */
    public boolean admits(Candidate s) {
        if (!s.usable() || s.backup() != backups) {
            return false;
        }
        return firstBackup == null || s == firstBackup;
    }
}
