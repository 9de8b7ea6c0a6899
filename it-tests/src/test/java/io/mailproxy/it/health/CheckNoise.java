package io.mailproxy.it.health;

import io.mailproxy.dovecot.DovecotVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What Dovecot logs for the proxy's own check connections ({@code rip=127.0.0.1} or
 * {@code from 127.0.0.1}), and which of those lines are the polite ones: a check that says
 * LOGOUT/QUIT after its CAPABILITY/CAPA/LHLO leaves exactly these, in the words of the Dovecot
 * version it talks to. The harness's readiness probes come from 127.0.0.254, so they are not
 * among the check lines.
 */
final class CheckNoise {

    private static final Pattern FROM_CHECKS = Pattern.compile("rip=127\\.0\\.0\\.1\\b|from 127\\.0\\.0\\.1\\b");
    private static final List<Pattern> POLITE_LMTP = List.of(
            // lmtp: 220, LHLO, QUIT
            Pattern.compile("lmtp\\(\\d+\\): Info: Connect from 127\\.0\\.0\\.1$"),
            Pattern.compile("lmtp\\(\\d+\\): Info: Disconnect from 127\\.0\\.0\\.1: Logged out \\(state=READY\\)$"));

    private CheckNoise() {
    }

    /** The check lines among {@code lines}, up to Dovecot's own shutdown (which ends connections its way). */
    static List<String> checkLines(List<String> lines) {
        List<String> out = new ArrayList<>();
        for (String line : lines) {
            if (line.contains("Killed with signal")) {
                break;
            }
            if (FROM_CHECKS.matcher(line).find()) {
                out.add(line);
            }
        }
        return out;
    }

    /** Lines that are not polite check lines, plus any line at all that mentions the PROXY protocol. */
    static List<String> noise(List<String> lines, DovecotVersion version) {
        // imap: * OK, C1 CAPABILITY, C2 LOGOUT; pop3: +OK, CAPA, QUIT. 2.4 adds "secured" because
        // a LOCAL header leaves the check's own addresses, and rip equals lip.
        Pattern politeLogin = Pattern.compile(version.loggedOutBeforeLogin("(imap|pop3)", "no auth attempts in \\d+ secs", "")
                .pattern() + "rip=127\\.0\\.0\\.1, lip=127\\.0\\.0\\.1, (secured, )?session=<[^>]+>$");
        List<String> out = new ArrayList<>();
        for (String line : checkLines(lines)) {
            if (!politeLogin.matcher(line).find() && POLITE_LMTP.stream().noneMatch(p -> p.matcher(line).find())) {
                out.add(line);
            }
        }
        for (String line : lines) {
            if (line.contains("haproxy") && !out.contains(line)) {
                out.add(line);
            }
        }
        return out;
    }
}
