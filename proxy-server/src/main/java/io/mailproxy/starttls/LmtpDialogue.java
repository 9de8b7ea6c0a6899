package io.mailproxy.starttls;

/**
 * LMTP before STARTTLS (RFC 2033, RFC 3207, RFC 5321): a 220 greeting naming this server; LHLO
 * answered with {@code STARTTLS} (HELO and EHLO refused: LMTP has LHLO only), NOOP, RSET, QUIT
 * and STARTTLS answered; any other command refused with {@code 530 5.7.0 Must issue a STARTTLS
 * command first} (RFC 3207 4), or with {@code starttls-optional} sent to a server, after the
 * client's LHLO, whose reply the client already had from mailproxy.
 */
final class LmtpDialogue extends Dialogue {

    private final String hostName;
    /** The domain of the client's LHLO, or null before it. */
    private String lhlo;

    LmtpDialogue(boolean optional, String hostName) {
        super(optional);
        this.hostName = hostName;
    }

    @Override
    String greeting() {
        return "220 " + hostName + " LMTP ready\r\n";
    }

    @Override
    Answer answer(String line) {
        String command = verb(line);
        String arguments = arguments(line).trim();
        switch (command) {
            case "LHLO" -> {
                if (arguments.isEmpty() || !arguments.chars().allMatch(c -> c > 0x20 && c < 0x7F)) {
                    return Answer.refused("501 5.5.4 Syntax: LHLO domain\r\n", command);
                }
                lhlo = arguments;
                return Answer.ok("250-" + hostName + "\r\n250-ENHANCEDSTATUSCODES\r\n250 STARTTLS\r\n");
            }
            case "HELO", "EHLO" -> {
                return Answer.refused("500 5.5.1 This is LMTP: say LHLO (RFC 2033)\r\n", command);
            }
            case "STARTTLS" -> {
                return arguments.isEmpty() ? Answer.startTls("220 2.0.0 Ready to start TLS\r\n")
                        : Answer.refused("501 5.5.4 STARTTLS takes no parameters\r\n", command);
            }
            case "NOOP", "RSET" -> {
                return Answer.ok("250 2.0.0 OK\r\n");
            }
            case "QUIT" -> {
                return Answer.close("221 2.0.0 Bye\r\n");
            }
            default -> {
                return optional ? Answer.PLAINTEXT
                        : Answer.refused("530 5.7.0 Must issue a STARTTLS command first\r\n",
                                command.isEmpty() ? "(empty)" : command);
            }
        }
    }

    @Override
    String goodbye(String why) {
        return "421 4.7.0 " + hostName + " " + why + "\r\n";
    }

    @Override
    String serverPreamble() {
        return lhlo == null ? null : "LHLO " + lhlo + "\r\n";
    }

    @Override
    int serverRepliesToDrop() {
        return lhlo == null ? 0 : 1;
    }
}
