package io.mailproxy.checks;

/**
 * The protocol a health check speaks. Every mail protocol here is server-speaks-first: the check
 * waits for the greeting, asks one question, and says goodbye.
 */
public enum CheckType {
    /** Connect only (plus the TLS handshake when TLS is on): HAProxy's plain {@code check}. */
    TCP,
    /** Greeting {@code * OK}, {@code CAPABILITY} answered tagged {@code OK}, then {@code LOGOUT} (RFC 9051). */
    IMAP,
    /** Greeting {@code +OK}, {@code CAPA} answered by a multi-line {@code +OK}, then {@code QUIT} (RFC 2449). */
    POP3,
    /** Greeting {@code 220}, {@code LHLO} answered {@code 250}, then {@code QUIT} (RFC 2033). */
    LMTP,
    /** Greeting {@code 220}, {@code EHLO} answered {@code 250}, then {@code QUIT} (RFC 5321). */
    SMTP
}
