package io.mailproxy.config;

/** What happens to a server's open sessions when its health check marks it DOWN (HAProxy's {@code on-marked-down}). */
public enum OnMarkedDown {
    /** They stay: a server that fails its check may still serve the sessions it has. */
    NONE,
    /** They are closed at once, logged with termination state {@code DD} ({@code shutdown-sessions}). */
    SHUTDOWN_SESSIONS
}
