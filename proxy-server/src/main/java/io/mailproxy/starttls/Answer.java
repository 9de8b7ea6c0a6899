package io.mailproxy.starttls;

/**
 * What mailproxy does with one command line before TLS.
 *
 * @param reply   the text written to the client (CRLF-terminated lines), or null for nothing
 * @param action  what happens next
 * @param refused the command's verb when it was refused (for the log and the bound on refusals), or null
 */
record Answer(String reply, Action action, String refused) {

    /** What follows an answer. */
    enum Action {
        /** Wait for the next command. */
        CONTINUE,
        /** The client may start its TLS handshake now. */
        STARTTLS,
        /** {@code starttls-optional}: the command (and all that follows) goes to a server in plaintext; no reply. */
        PLAINTEXT,
        /** The client said goodbye; close once the reply is out. */
        CLOSE
    }

    static Answer ok(String reply) {
        return new Answer(reply, Action.CONTINUE, null);
    }

    static Answer refused(String reply, String verb) {
        return new Answer(reply, Action.CONTINUE, verb);
    }

    static Answer startTls(String reply) {
        return new Answer(reply, Action.STARTTLS, null);
    }

    static Answer close(String reply) {
        return new Answer(reply, Action.CLOSE, null);
    }

    static final Answer PLAINTEXT = new Answer(null, Action.PLAINTEXT, null);
}
