package io.mailproxy.checks;

import java.util.List;
import java.util.Locale;

/**
 * IMAP (RFC 9051/3501): greeting {@code * OK} (or {@code * PREAUTH}), {@code C1 CAPABILITY} answered
 * {@code C1 OK}, then {@code C2 LOGOUT}. With STARTTLS, {@code C0 STARTTLS} answered {@code C0 OK}
 * comes first, then TLS, then the rest.
 */
final class ImapConversation extends Conversation {

    private static final String STARTTLS_TAG = "C0";
    private static final String CAPABILITY_TAG = "C1";
    private static final String LOGOUT_TAG = "C2";
    private static final String CAPABILITY_CODE = "[CAPABILITY ";

    private enum Step { GREETING, STARTTLS, TLS, CAPABILITY }

    private Step step = Step.GREETING;

    ImapConversation(List<String> required, boolean startTls) {
        super(required, startTls);
    }

    @Override
    void onLine(String line, Reply reply) {
        switch (step) {
            case GREETING -> onGreeting(line, reply);
            case STARTTLS -> onStartTlsReply(line, reply);
            case TLS -> reply.fail(CheckStatus.L7RSP, 0, line);
            case CAPABILITY -> onCapabilityReply(line, reply);
        }
    }

    private void onGreeting(String line, Reply reply) {
        if (startsWithWord(line, "* OK") || startsWithWord(line, "* PREAUTH")) {
            announceFromCode(line);
            if (startTls) {
                step = Step.STARTTLS;
                reply.send(STARTTLS_TAG + " STARTTLS");
            } else {
                step = Step.CAPABILITY;
                reply.send(CAPABILITY_TAG + " CAPABILITY");
            }
        } else if (isRefusal(line, "*")) {
            reply.fail(CheckStatus.L7STS, 0, line);
        } else {
            reply.fail(CheckStatus.L7RSP, 0, line);
        }
    }

    private void onStartTlsReply(String line, Reply reply) {
        if (startsWithWord(line, STARTTLS_TAG + " OK")) {
            step = Step.TLS;
            reply.startTls();
        } else if (startsWithWord(line, "* BYE") || isRefusal(line, STARTTLS_TAG)) {
            reply.fail(CheckStatus.L7STS, 0, line);
        } else if (!line.startsWith("* ")) {
            reply.fail(CheckStatus.L7RSP, 0, line);
        }
    }

    @Override
    void afterTls(Reply reply) {
        step = Step.CAPABILITY;
        reply.send(CAPABILITY_TAG + " CAPABILITY");
    }

    private void onCapabilityReply(String line, Reply reply) {
        if (startsWithWord(line, "* CAPABILITY")) {
            announceAll(line.substring("* CAPABILITY".length()));
        } else if (startsWithWord(line, "* BYE")) {
            reply.fail(CheckStatus.L7STS, 0, line);
        } else if (line.startsWith("* ")) {
            // other untagged data (e.g. an unsolicited OK with a response code) is allowed anywhere
            announceFromCode(line);
        } else if (startsWithWord(line, CAPABILITY_TAG + " OK")) {
            passIfCapable(reply, 0);
        } else if (isRefusal(line, CAPABILITY_TAG)) {
            reply.fail(CheckStatus.L7STS, 0, line);
        } else {
            reply.fail(CheckStatus.L7RSP, 0, line);
        }
    }

    private static boolean isRefusal(String line, String tag) {
        return startsWithWord(line, tag + " BYE") || startsWithWord(line, tag + " NO")
                || startsWithWord(line, tag + " BAD");
    }

    /** Reads a {@code [CAPABILITY ...]} response code, as Dovecot sends in its greeting. */
    private void announceFromCode(String line) {
        int start = line.toUpperCase(Locale.ROOT).indexOf(CAPABILITY_CODE);
        if (start < 0) {
            return;
        }
        int end = line.indexOf(']', start);
        announceAll(line.substring(start + CAPABILITY_CODE.length(), end < 0 ? line.length() : end));
    }

    private void announceAll(String tokens) {
        for (String token : tokens.trim().split(" +")) {
            announce(token);
        }
    }

    @Override
    String awaiting() {
        return switch (step) {
            case GREETING -> "the greeting";
            case STARTTLS, TLS -> "the STARTTLS reply";
            case CAPABILITY -> "the CAPABILITY reply";
        };
    }

    @Override
    String goodbye() {
        return LOGOUT_TAG + " LOGOUT";
    }
}
