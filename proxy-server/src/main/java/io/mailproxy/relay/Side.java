package io.mailproxy.relay;

/** The two ends of a session. */
public enum Side {
    CLIENT,
    SERVER
}
