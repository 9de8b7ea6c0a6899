package io.mailproxy.checks;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * One protocol's side of a check: fed the server's lines one by one, it answers through
 * {@link Reply}. Runs on the check's event loop only; one instance per check.
 */
abstract class Conversation {

    /** What a conversation can do in answer to a line. */
    interface Reply {
        /** Sends one command line (CRLF is added). */
        void send(String line);

        /** The check passed; the conversation's {@link #goodbye()} is sent next. */
        void pass(int code);

        /** The check failed; the connection is closed at once. {@code info} is raw text. */
        void fail(CheckStatus status, int code, String info);

        /**
         * The server agreed to STARTTLS: the TLS handshake starts now, and {@link #tlsUp} follows
         * once it is done. Nothing the server sent after its agreement may be read as a reply.
         */
        void startTls();
    }

    private final List<String> required;
    /** Whether the conversation upgrades with STARTTLS (STLS) after the greeting. */
    final boolean startTls;
    /** Announced capabilities, upper-cased: compared case-insensitively (RFC 9051 section 2.1). */
    private final Set<String> announced = new TreeSet<>();

    Conversation(List<String> required, boolean startTls) {
        this.required = required;
        this.startTls = startTls;
    }

    /** Creates the conversation for a spec; {@code null} for {@link CheckType#TCP}. */
    static Conversation forSpec(CheckSpec spec) {
        boolean startTls = spec.tls().mode() == CheckTls.Mode.STARTTLS;
        return switch (spec.type()) {
            case TCP -> null;
            case IMAP -> new ImapConversation(spec.expectCapabilities(), startTls);
            case POP3 -> new Pop3Conversation(spec.expectCapabilities(), startTls);
            case LMTP -> new SmtpConversation("LHLO", spec.heloName(), spec.expectCapabilities(), startTls);
            case SMTP -> new SmtpConversation("EHLO", spec.heloName(), spec.expectCapabilities(), startTls);
        };
    }

    /** Handles one line, without its line ending, one char per byte. */
    abstract void onLine(String line, Reply reply);

    /**
     * TLS is up after STARTTLS: the conversation goes on as it would have in plaintext. What was
     * announced before TLS is forgotten (RFC 3207 4.2, RFC 9051 6.2.1: capabilities may change).
     */
    void tlsUp(Reply reply) {
        announced.clear();
        afterTls(reply);
    }

    /** Sends the first command after TLS. */
    abstract void afterTls(Reply reply);

    /** What the conversation waits for now, for "connection closed while waiting for ..." reasons. */
    abstract String awaiting();

    /** The polite last command sent after a pass ({@code LOGOUT}, {@code QUIT}). */
    abstract String goodbye();

    final void announce(String capability) {
        if (!capability.isEmpty()) {
            announced.add(capability.toUpperCase(Locale.ROOT));
        }
    }

    /**
     * Passes with {@code code} when every required capability was announced. A missing one is
     * L7RSP, as an unmatched {@code tcp-check expect} is in HAProxy: the reply lacked what we expect.
     */
    final void passIfCapable(Reply reply, int code) {
        for (String capability : required) {
            if (!announced.contains(capability.toUpperCase(Locale.ROOT))) {
                reply.fail(CheckStatus.L7RSP, 0, "missing capability " + capability);
                return;
            }
        }
        reply.pass(code);
    }

    /** Whether {@code line} starts with {@code word} (case-insensitively) followed by the end, a space or {@code [}. */
    static boolean startsWithWord(String line, String word) {
        if (!line.regionMatches(true, 0, word, 0, word.length())) {
            return false;
        }
        if (line.length() == word.length()) {
            return true;
        }
        char next = line.charAt(word.length());
        return next == ' ' || next == '[';
    }
}
