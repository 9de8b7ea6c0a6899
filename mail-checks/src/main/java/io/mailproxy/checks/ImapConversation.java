package io.mailproxy.checks;

import java.util.List;
import java.util.Locale;

/**
 * IMAP (RFC 9051/3501): greeting {@code * OK} (or {@code * PREAUTH}), {@code C1 CAPABILITY} answered
 * {@code C1 OK}, then {@code C2 LOGOUT}.
 */
final class ImapConversation extends Conversation {

    private static final String CAPABILITY_TAG = "C1";
    private static final String LOGOUT_TAG = "C2";
    private static final String CAPABILITY_CODE = "[CAPABILITY ";

    private boolean greeted;

    ImapConversation(List<String> required) {
        super(required);
    }

    @Override
    void onLine(String line, Reply reply) {
        if (!greeted) {
            onGreeting(line, reply);
        } else {
            onCapabilityReply(line, reply);
        }
    }

    private void onGreeting(String line, Reply reply) {
        if (startsWithWord(line, "* OK") || startsWithWord(line, "* PREAUTH")) {
            announceFromCode(line);
            greeted = true;
            reply.send(CAPABILITY_TAG + " CAPABILITY");
        } else if (isRefusal(line, "*")) {
            reply.fail(CheckStatus.L7STS, 0, line);
        } else {
            reply.fail(CheckStatus.L7RSP, 0, line);
        }
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
        return greeted ? "the CAPABILITY reply" : "the greeting";
    }

    @Override
    String goodbye() {
        return LOGOUT_TAG + " LOGOUT";
    }
}
