package io.mailproxy.dovecot;

/** Dovecot could not be found, configured, started or observed; the message says why and what to do. */
public class DovecotException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public DovecotException(String message) {
        super(message);
    }

    public DovecotException(String message, Throwable cause) {
        super(message, cause);
    }
}
