package io.mailproxy.backend;

import io.mailproxy.log.Termination;

/**
 * Why a {@link Dispatch} found no server for its session: the termination the session is logged
 * with (no server, connect or greeting timeout, queue full or timed out) and a short detail.
 */
public final class ConnectFailure extends Exception {
    private static final long serialVersionUID = 1L;

    private final transient Termination termination;

    ConnectFailure(Termination termination, String detail) {
        super(detail, null, false, false);
        this.termination = termination;
    }

    public Termination termination() {
        return termination;
    }

    /** The detail for the log line, or null. */
    public String detail() {
        return getMessage();
    }
}
