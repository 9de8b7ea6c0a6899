package io.mailproxy.checks;

import java.util.List;

/**
 * SMTP (RFC 5321) and LMTP (RFC 2033): greeting {@code 220}, {@code EHLO}/{@code LHLO} answered
 * {@code 250}, then {@code QUIT}. Replies may span lines ({@code 250-...} then {@code 250 ...});
 * any 2xx passes a step, as in HAProxy's {@code smtpchk}; anything else is L7STS with its code.
 * With STARTTLS (RFC 3207): {@code EHLO}/{@code LHLO}, {@code STARTTLS} answered {@code 220}, TLS,
 * then {@code EHLO}/{@code LHLO} again, whose reply is the one checked.
 */
final class SmtpConversation extends Conversation {

    private static final int CODE_LENGTH = 3;

    private enum Step { GREETING, HELO, STARTTLS, TLS, HELO_AFTER_TLS }

    private final String verb;
    private final String heloName;
    private Step step = Step.GREETING;
    /** Code and text of the first line of the reply being read; -1 between replies. */
    private int replyCode = -1;
    private String replyText;

    SmtpConversation(String verb, String heloName, List<String> required, boolean startTls) {
        super(required, startTls);
        this.verb = verb;
        this.heloName = heloName;
    }

    @Override
    void onLine(String line, Reply reply) {
        if (step == Step.TLS) {
            reply.fail(CheckStatus.L7RSP, 0, line);
            return;
        }
        int code = parseCode(line);
        if (code < 0 || (replyCode >= 0 && code != replyCode)) {
            reply.fail(CheckStatus.L7RSP, 0, line);
            return;
        }
        boolean last = line.length() == CODE_LENGTH || line.charAt(CODE_LENGTH) == ' ';
        String text = line.length() > CODE_LENGTH ? line.substring(CODE_LENGTH + 1).strip() : "";
        if (replyCode < 0) {
            replyCode = code;
            replyText = text;
        } else if (step == Step.HELO || step == Step.HELO_AFTER_TLS) {
            // EHLO/LHLO keywords follow the first line (RFC 5321 section 4.1.1.1)
            int space = text.indexOf(' ');
            announce(space < 0 ? text : text.substring(0, space));
        }
        if (last) {
            onReply(reply);
        }
    }

    private void onReply(Reply reply) {
        int code = replyCode;
        String text = replyText;
        replyCode = -1;
        replyText = null;
        if (code / 100 != 2) {
            // HAProxy's smtpchk: code apart, the text after it as info ("421 Try again later")
            reply.fail(CheckStatus.L7STS, code, text);
            return;
        }
        switch (step) {
            case GREETING -> {
                step = Step.HELO;
                reply.send(verb + " " + heloName);
            }
            case HELO -> {
                if (startTls) {
                    step = Step.STARTTLS;
                    reply.send("STARTTLS");
                } else {
                    passIfCapable(reply, code);
                }
            }
            case STARTTLS -> {
                step = Step.TLS;
                reply.startTls();
            }
            default -> passIfCapable(reply, code);
        }
    }

    @Override
    void afterTls(Reply reply) {
        step = Step.HELO_AFTER_TLS;
        reply.send(verb + " " + heloName);
    }

    /** The 3-digit code of a reply line followed by the end, a space or a dash; -1 when it is not one. */
    private static int parseCode(String line) {
        if (line.length() < CODE_LENGTH) {
            return -1;
        }
        for (int i = 0; i < CODE_LENGTH; i++) {
            if (line.charAt(i) < '0' || line.charAt(i) > '9') {
                return -1;
            }
        }
        if (line.length() > CODE_LENGTH && line.charAt(CODE_LENGTH) != ' ' && line.charAt(CODE_LENGTH) != '-') {
            return -1;
        }
        return Integer.parseInt(line, 0, CODE_LENGTH, 10);
    }

    @Override
    String awaiting() {
        return switch (step) {
            case GREETING -> "the greeting";
            case HELO, HELO_AFTER_TLS -> "the " + verb + " reply";
            case STARTTLS, TLS -> "the STARTTLS reply";
        };
    }

    @Override
    String goodbye() {
        return "QUIT";
    }
}
