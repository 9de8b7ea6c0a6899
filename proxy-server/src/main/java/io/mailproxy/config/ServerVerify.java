package io.mailproxy.config;

/** Whether mailproxy checks a server's certificate ({@code tls-to-server.verify}, HAProxy's {@code verify}). */
public enum ServerVerify {
    /** The chain must lead to a CA of {@code ca-file}, and match {@code sni} when one is set. */
    REQUIRED,
    /** Any certificate is accepted: the hop is encrypted, not authenticated. */
    NONE
}
