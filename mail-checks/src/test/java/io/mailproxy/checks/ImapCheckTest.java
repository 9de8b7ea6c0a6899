package io.mailproxy.checks;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ImapCheckTest extends CheckTestSupport {

    /** What Dovecot sends, capabilities in the greeting and again in the CAPABILITY reply. */
    private static final String DOVECOT_GREETING =
            "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN] Dovecot ready.\r\n";

    static void goodImap(FakeServer.Conn c) throws Exception {
        c.send(DOVECOT_GREETING);
        c.expectLine("C1 CAPABILITY");
        c.send("* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN\r\n"
                + "C1 OK Pre-login capabilities listed, post-login capabilities have more.\r\n");
        c.expectLine("C2 LOGOUT");
        c.send("* BYE Logging out\r\nC2 OK Logout completed.\r\n");
    }

    @Test
    void goodExchangePassesAndLogsOut() throws Exception {
        try (FakeServer server = FakeServer.start(ImapCheckTest::goodImap)) {
            assertResult(CheckStatus.L7OK, 0, "", run(spec(CheckType.IMAP, server.address())));
        }
    }

    @Test
    void requiredCapabilityFromTheUntaggedReplyIsCaseInsensitive() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.send("* OK ready\r\n");
            c.expectLine("C1 CAPABILITY");
            c.send("* CAPABILITY IMAP4rev1 IDLE\r\nC1 OK done\r\n");
            c.expectLine("C2 LOGOUT");
        })) {
            CheckSpec spec = spec(CheckType.IMAP, server.address()).withExpectCapabilities(List.of("imap4REV1", "idle"));
            assertResult(CheckStatus.L7OK, 0, "", run(spec));
        }
    }

    @Test
    void requiredCapabilityFromTheGreetingCode() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.send("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n");
            c.expectLine("C1 CAPABILITY");
            c.send("C1 OK done\r\n");
            c.expectLine("C2 LOGOUT");
        })) {
            CheckSpec spec = spec(CheckType.IMAP, server.address()).withExpectCapabilities(List.of("STARTTLS"));
            assertResult(CheckStatus.L7OK, 0, "", run(spec));
        }
    }

    @Test
    void missingCapabilityIsAnInvalidResponse() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.send("* OK ready\r\n");
            c.expectLine("C1 CAPABILITY");
            c.send("* CAPABILITY IMAP4\r\nC1 OK done\r\n");
            c.awaitClose();
        })) {
            CheckSpec spec = spec(CheckType.IMAP, server.address()).withExpectCapabilities(List.of("IMAP4rev1"));
            assertResult(CheckStatus.L7RSP, 0, "missing capability IMAP4rev1", run(spec));
        }
    }

    @Test
    void byeGreetingIsWrongStatus() throws Exception {
        try (FakeServer server = FakeServer.start(c -> c.send("* BYE Too many connections\r\n"))) {
            assertResult(CheckStatus.L7STS, 0, "* BYE Too many connections", run(spec(CheckType.IMAP, server.address())));
        }
    }

    @Test
    void noGreetingIsWrongStatus() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.send("* NO not now\r\n");
            c.awaitClose();
        })) {
            assertResult(CheckStatus.L7STS, 0, "* NO not now", run(spec(CheckType.IMAP, server.address())));
        }
    }

    @Test
    void capabilityRefusedIsWrongStatus() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.send("* OK ready\r\n");
            c.expectLine("C1 CAPABILITY");
            c.send("C1 BAD no thanks\r\n");
            c.awaitClose();
        })) {
            assertResult(CheckStatus.L7STS, 0, "C1 BAD no thanks", run(spec(CheckType.IMAP, server.address())));
        }
    }

    @Test
    void silenceIsLayer7Timeout() throws Exception {
        try (FakeServer server = FakeServer.start(FakeServer.Conn::awaitClose)) {
            CheckResult result = run(spec(CheckType.IMAP, server.address()).withTimeout(SHORT_TIMEOUT));
            assertResult(CheckStatus.L7TOUT, 0, "", result);
            assertTrue(result.durationMillis() >= SHORT_TIMEOUT.toMillis(), () -> "duration " + result);
        }
    }

    @Test
    void closedBeforeTheGreetingIsAnInvalidResponse() throws Exception {
        try (FakeServer server = FakeServer.start(c -> { })) {
            assertResult(CheckStatus.L7RSP, 0, "connection closed while waiting for the greeting",
                    run(spec(CheckType.IMAP, server.address())));
        }
    }

    @Test
    void closedAfterCapabilityIsAnInvalidResponse() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.send("* OK ready\r\n");
            c.expectLine("C1 CAPABILITY");
        })) {
            assertResult(CheckStatus.L7RSP, 0, "connection closed while waiting for the CAPABILITY reply",
                    run(spec(CheckType.IMAP, server.address())));
        }
    }

    @Test
    void somethingElseIsAnInvalidResponse() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.send("SSH-2.0-OpenSSH_9.2\r\n");
            c.awaitClose();
        })) {
            assertResult(CheckStatus.L7RSP, 0, "SSH-2.0-OpenSSH_9.2", run(spec(CheckType.IMAP, server.address())));
        }
    }

    @Test
    void nonPrintableBytesAreEscapedAndInfoTruncated() throws Exception {
        String garbage = "\u0001\u00ff<\"x\"> " + "y".repeat(100) + "\r\n";
        try (FakeServer server = FakeServer.start(c -> {
            c.send(garbage);
            c.awaitClose();
        })) {
            CheckResult result = run(spec(CheckType.IMAP, server.address()));
            assertResult(CheckStatus.L7RSP, 0, "<01><FF><3C><22>x<22><3E> " + "y".repeat(38), result);
        }
    }

    @Test
    void replySplitIntoSingleBytesIsReassembled() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.sendBytewise("* OK ready\r\n");
            c.expectLine("C1 CAPABILITY");
            c.sendBytewise("* CAPABILITY IMAP4rev1\r\nC1 OK done\r\n");
            c.expectLine("C2 LOGOUT");
        })) {
            CheckSpec spec = spec(CheckType.IMAP, server.address()).withExpectCapabilities(List.of("IMAP4rev1"));
            assertResult(CheckStatus.L7OK, 0, "", run(spec));
        }
    }

    @Test
    void overLongLineIsAnInvalidResponse() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.send("* OK " + "x".repeat(MailCheck.MAX_LINE_LENGTH) + "\r\n");
            c.awaitClose();
        })) {
            assertResult(CheckStatus.L7RSP, 0, "reply line longer than 4096 bytes",
                    run(spec(CheckType.IMAP, server.address())));
        }
    }

    @Test
    void lineOfExactlyTheMaximumIsAccepted() throws Exception {
        String greeting = "* OK ";
        try (FakeServer server = FakeServer.start(c -> {
            c.send(greeting + "x".repeat(MailCheck.MAX_LINE_LENGTH - greeting.length()) + "\r\n");
            c.expectLine("C1 CAPABILITY");
            c.send("C1 OK done\r\n");
            c.expectLine("C2 LOGOUT");
        })) {
            assertResult(CheckStatus.L7OK, 0, "", run(spec(CheckType.IMAP, server.address())));
        }
    }
}
