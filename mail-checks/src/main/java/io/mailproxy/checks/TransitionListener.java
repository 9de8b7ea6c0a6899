package io.mailproxy.checks;

/**
 * Told when a server changes state. Called on the server's check event loop; must not block.
 */
public interface TransitionListener {

    /**
     * {@code server} has just gone up or down because of {@code cause}. Apply it to the backend and
     * return the backend's counts afterwards: they go into the log line.
     */
    ServerCounts stateChanged(ServerHealth server, boolean up, CheckResult cause);

    /** Receives each line logged for a transition, exactly as logged. Ignored by default. */
    default void logged(String line) {
    }
}
