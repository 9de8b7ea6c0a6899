package io.mailproxy.starttls;

/**
 * IMAP before STARTTLS (RFC 9051 6.1, 6.2.1; RFC 3501): the greeting carries the capabilities,
 * {@code STARTTLS} and, with {@code starttls}, {@code LOGINDISABLED} (LOGIN and AUTHENTICATE are
 * refused with {@code NO [PRIVACYREQUIRED]}); CAPABILITY, NOOP, LOGOUT and STARTTLS are answered;
 * any other command is {@code BAD}, or with {@code starttls-optional} goes to a server.
 */
final class ImapDialogue extends Dialogue {

    ImapDialogue(boolean optional) {
        super(optional);
    }

    private String capabilities() {
        return optional ? "IMAP4rev1 STARTTLS" : "IMAP4rev1 STARTTLS LOGINDISABLED";
    }

    @Override
    String greeting() {
        return "* OK [CAPABILITY " + capabilities() + "] Server ready.\r\n";
    }

    @Override
    Answer answer(String line) {
        int space = line.indexOf(' ');
        String tag = space < 0 ? line : line.substring(0, space);
        if (!isTag(tag)) {
            return Answer.refused("* BAD Error in IMAP command: invalid tag.\r\n", "(invalid tag)");
        }
        String rest = space < 0 ? "" : line.substring(space + 1);
        String command = verb(rest);
        boolean bare = rest.indexOf(' ') < 0;
        switch (command) {
            case "" -> {
                return Answer.refused(tag + " BAD Missing command.\r\n", "(empty)");
            }
            case "CAPABILITY" -> {
                return bare ? Answer.ok("* CAPABILITY " + capabilities() + "\r\n" + tag + " OK Capability completed.\r\n")
                        : badArguments(tag, command);
            }
            case "NOOP" -> {
                return bare ? Answer.ok(tag + " OK NOOP completed.\r\n") : badArguments(tag, command);
            }
            case "LOGOUT" -> {
                return bare ? Answer.close("* BYE Logging out.\r\n" + tag + " OK Logout completed.\r\n")
                        : badArguments(tag, command);
            }
            case "STARTTLS" -> {
                return bare ? Answer.startTls(tag + " OK Begin TLS negotiation now.\r\n") : badArguments(tag, command);
            }
            default -> {
                if (optional) {
                    return Answer.PLAINTEXT;
                }
                if (command.equals("LOGIN") || command.equals("AUTHENTICATE")) {
                    // RFC 9051 6.2.3 / 7.1: LOGINDISABLED is advertised, the client must not; refuse as Dovecot does
                    return Answer.refused(tag + " NO [PRIVACYREQUIRED] Authentication is allowed only after STARTTLS.\r\n",
                            command);
                }
                return Answer.refused(tag + " BAD Command not permitted before STARTTLS.\r\n", command);
            }
        }
    }

    private static Answer badArguments(String tag, String command) {
        return Answer.refused(tag + " BAD " + command + " takes no arguments.\r\n", command);
    }

    /** RFC 9051 9: tag = 1*(ASTRING-CHAR except "+"), so no SP, CTL, "(", ")", "{", "%", "*", DQUOTE, "\" or "+". */
    private static boolean isTag(String tag) {
        if (tag.isEmpty()) {
            return false;
        }
        for (int i = 0; i < tag.length(); i++) {
            char c = tag.charAt(i);
            if (c <= 0x20 || c >= 0x7F || "(){%*\"\\+".indexOf(c) >= 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    String goodbye(String why) {
        return "* BYE " + why + "\r\n";
    }
}
