package io.mailproxy.starttls;

/**
 * POP3 before STLS (RFC 1939, RFC 2449, RFC 2595 4): CAPA lists {@code STLS} (and, with
 * {@code starttls-optional}, {@code USER}), STLS and QUIT are answered; USER, PASS, APOP and AUTH
 * are refused with {@code -ERR [AUTH]} (RFC 3206), any other command with {@code -ERR}; with
 * {@code starttls-optional} they go to a server instead.
 */
final class Pop3Dialogue extends Dialogue {

    Pop3Dialogue(boolean optional) {
        super(optional);
    }

    @Override
    String greeting() {
        return "+OK Server ready.\r\n";
    }

    @Override
    Answer answer(String line) {
        String command = verb(line);
        boolean bare = line.indexOf(' ') < 0;
        switch (command) {
            case "CAPA" -> {
                return bare ? Answer.ok("+OK Capability list follows.\r\nCAPA\r\nSTLS\r\n" + (optional ? "USER\r\n" : "")
                        + ".\r\n") : badArguments(command);
            }
            case "STLS" -> {
                return bare ? Answer.startTls("+OK Begin TLS negotiation now.\r\n") : badArguments(command);
            }
            case "QUIT" -> {
                return bare ? Answer.close("+OK Logging out.\r\n") : badArguments(command);
            }
            default -> {
                if (optional) {
                    return Answer.PLAINTEXT;
                }
                if (command.equals("USER") || command.equals("PASS") || command.equals("APOP") || command.equals("AUTH")) {
                    return Answer.refused("-ERR [AUTH] Authentication is allowed only after STLS.\r\n", command);
                }
                return Answer.refused("-ERR Command not permitted before STLS.\r\n", command.isEmpty() ? "(empty)" : command);
            }
        }
    }

    private static Answer badArguments(String command) {
        return Answer.refused("-ERR " + command + " takes no arguments.\r\n", command);
    }

    @Override
    String goodbye(String why) {
        return "-ERR " + why + "\r\n";
    }
}
