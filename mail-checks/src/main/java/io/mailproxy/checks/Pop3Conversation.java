package io.mailproxy.checks;

import java.util.List;

/**
 * POP3 (RFC 1939, RFC 2449): greeting {@code +OK}, {@code CAPA} answered by {@code +OK} and a
 * capability list ending with a lone {@code .}, then {@code QUIT}. With STARTTLS, {@code STLS}
 * answered {@code +OK} comes first (RFC 2595), then TLS, then the rest.
 */
final class Pop3Conversation extends Conversation {

    private enum Step { GREETING, STLS_STATUS, TLS, CAPA_STATUS, CAPA_LIST }

    private Step step = Step.GREETING;

    Pop3Conversation(List<String> required, boolean startTls) {
        super(required, startTls);
    }

    @Override
    void onLine(String line, Reply reply) {
        switch (step) {
            case GREETING, STLS_STATUS, CAPA_STATUS -> onStatus(line, reply);
            case TLS -> reply.fail(CheckStatus.L7RSP, 0, line);
            case CAPA_LIST -> onCapability(line, reply);
        }
    }

    private void onStatus(String line, Reply reply) {
        if (startsWithWord(line, "+OK")) {
            switch (step) {
                case GREETING -> {
                    step = startTls ? Step.STLS_STATUS : Step.CAPA_STATUS;
                    reply.send(startTls ? "STLS" : "CAPA");
                }
                case STLS_STATUS -> {
                    step = Step.TLS;
                    reply.startTls();
                }
                default -> step = Step.CAPA_LIST;
            }
        } else if (startsWithWord(line, "-ERR")) {
            reply.fail(CheckStatus.L7STS, 0, line);
        } else {
            reply.fail(CheckStatus.L7RSP, 0, line);
        }
    }

    @Override
    void afterTls(Reply reply) {
        step = Step.CAPA_STATUS;
        reply.send("CAPA");
    }

    private void onCapability(String line, Reply reply) {
        if (line.equals(".")) {
            passIfCapable(reply, 0);
            return;
        }
        // byte-stuffing (RFC 1939 section 3): a line starting with "." carries an extra one
        String capability = line.startsWith(".") ? line.substring(1) : line;
        int space = capability.indexOf(' ');
        announce(space < 0 ? capability : capability.substring(0, space));
    }

    @Override
    String awaiting() {
        return switch (step) {
            case GREETING -> "the greeting";
            case STLS_STATUS, TLS -> "the STLS reply";
            case CAPA_STATUS, CAPA_LIST -> "the CAPA reply";
        };
    }

    @Override
    String goodbye() {
        return "QUIT";
    }
}
