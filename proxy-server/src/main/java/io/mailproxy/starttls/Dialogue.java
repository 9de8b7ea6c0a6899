package io.mailproxy.starttls;

import io.mailproxy.mail.MailProtocol;
import java.util.Locale;

/**
 * One protocol's side of the plaintext dialogue before STARTTLS: the greeting, the answer to each
 * command line, and the last words when the client breaks a bound. Pure text in, text out; the
 * {@link PreTlsHandler} does the I/O. One instance per session.
 */
abstract class Dialogue {

    /** Whether a client may stay in plaintext ({@code starttls-optional}). */
    final boolean optional;

    Dialogue(boolean optional) {
        this.optional = optional;
    }

    /** The dialogue of {@code protocol}; {@code hostName} names this server in the LMTP greeting. */
    static Dialogue of(MailProtocol protocol, boolean optional, String hostName) {
        return switch (protocol) {
            case IMAP -> new ImapDialogue(optional);
            case POP3 -> new Pop3Dialogue(optional);
            case LMTP -> new LmtpDialogue(optional, hostName);
        };
    }

    /** The greeting written once the client is admitted. */
    abstract String greeting();

    /** The answer to one command line (without its line end). */
    abstract Answer answer(String line);

    /** Written just before mailproxy closes a client that broke a bound ({@code why}: a short sentence). */
    abstract String goodbye(String why);

    /**
     * For a client handed to a server in plaintext: what the server must be told first, so that it
     * is where the client believes the dialogue is (LMTP: the client's LHLO), or null.
     */
    String serverPreamble() {
        return null;
    }

    /** How many of the server's replies to {@link #serverPreamble()} are not passed on (the client had ours). */
    int serverRepliesToDrop() {
        return 0;
    }

    /** The first word of a line, upper-cased; "" for none. */
    static String verb(String line) {
        int space = line.indexOf(' ');
        return (space < 0 ? line : line.substring(0, space)).toUpperCase(Locale.ROOT);
    }

    /** What follows the first word, or "" for nothing. */
    static String arguments(String line) {
        int space = line.indexOf(' ');
        return space < 0 ? "" : line.substring(space + 1);
    }
}
