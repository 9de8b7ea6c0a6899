package io.mailproxy.checks;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The lines HAProxy's srv_append_status() writes, field by field. */
class TransitionLineTest {

    @Test
    void downOnTimeoutHasNeitherCodeNorInfo() {
        assertEquals("Server imap-pool/dc1 is DOWN, reason: Layer7 timeout, check duration: 5001ms. "
                        + "1 active and 0 backup servers left.",
                TransitionLine.format("imap-pool", "dc1", false, CheckResult.of(CheckStatus.L7TOUT, 0, 5001, ""),
                        new ServerCounts(1, 0)));
    }

    @Test
    void upOnPassHasTheCode() {
        assertEquals("Server imap-pool/dc1 is UP, reason: Layer7 check passed, code: 0, check duration: 3ms. "
                        + "2 active and 0 backup servers online.",
                TransitionLine.format("imap-pool", "dc1", true, CheckResult.of(CheckStatus.L7OK, 0, 3, ""),
                        new ServerCounts(2, 0)));
    }

    @Test
    void imapByeHasCodeZeroAndTheLineAsInfo() {
        assertEquals("Server bk_imap/s1 is DOWN, reason: Layer7 wrong status, code: 0, info: \"* BYE\", "
                        + "check duration: 3ms. 1 active and 0 backup servers left.",
                TransitionLine.format("bk_imap", "s1", false, CheckResult.of(CheckStatus.L7STS, 0, 3, "* BYE"),
                        new ServerCounts(1, 0)));
    }

    @Test
    void smtp421HasItsCodeAndText() {
        assertEquals("Server smtp/mx1 is DOWN, reason: Layer7 wrong status, code: 421, info: \"Try again later\", "
                        + "check duration: 2ms. 0 active and 1 backup servers left. Running on backup.",
                TransitionLine.format("smtp", "mx1", false, CheckResult.of(CheckStatus.L7STS, 421, 2, "Try again later"),
                        new ServerCounts(0, 1)));
    }

    @Test
    void layer4ProblemHasInfoButNoCode() {
        assertEquals("Server pop/p1 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", "
                        + "check duration: 0ms. 0 active and 0 backup servers left.",
                TransitionLine.format("pop", "p1", false, CheckResult.of(CheckStatus.L4CON, 0, 0, "Connection refused"),
                        new ServerCounts(0, 0)));
    }

    @Test
    void serverBytesCannotBreakTheQuotesOrTheLine() {
        String line = TransitionLine.format("b", "s", false,
                CheckResult.of(CheckStatus.L7RSP, 0, 1, "x\", check duration: 0ms\r\nServer b/s is UP"),
                new ServerCounts(1, 0));
        assertEquals("Server b/s is DOWN, reason: Layer7 invalid response, "
                + "info: \"x<22>, check duration: 0ms<0D><0A>Server b/s is UP\", check duration: 1ms. "
                + "1 active and 0 backup servers left.", line);
    }
}
