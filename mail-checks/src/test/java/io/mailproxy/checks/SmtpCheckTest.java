package io.mailproxy.checks;

import java.util.List;
import org.junit.jupiter.api.Test;

/** SMTP and LMTP, after HAProxy's reg-tests/checks/smtp-check.vtc. */
class SmtpCheckTest extends CheckTestSupport {

    @Test
    void smtpSingleLineReplyPasses() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.send("220 smtp-check.vtc SMTP Server\r\n");
            c.expectLine("EHLO localhost");
            c.send("250 smtp-check.vtc\r\n");
            c.expectLine("QUIT");
            c.send("221 smtp-check.vtc closing\r\n");
        })) {
            assertResult(CheckStatus.L7OK, 250, "", run(spec(CheckType.SMTP, server.address())));
        }
    }

    @Test
    void smtpMultiLineReplyWithKeywordsPasses() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.send("220-smtp-check.vtc SMTP Server\r\n220 more greeting\r\n");
            c.expectLine("EHLO domain.tld");
            c.send("250-smtp-check.vtc\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n");
            c.expectLine("QUIT");
            c.send("221 smtp-check.vtc closing\r\n");
        })) {
            CheckSpec spec = spec(CheckType.SMTP, server.address()).withHeloName("domain.tld")
                    .withExpectCapabilities(List.of("size", "8BITMIME"));
            assertResult(CheckStatus.L7OK, 250, "", run(spec));
        }
    }

    @Test
    void notSmtpIsAnInvalidResponse() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.send("I'm not a SMTP server\r\n");
            c.awaitClose();
        })) {
            assertResult(CheckStatus.L7RSP, 0, "I'm not a SMTP server", run(spec(CheckType.SMTP, server.address())));
        }
    }

    @Test
    void greeting421IsWrongStatusWithItsCode() throws Exception {
        try (FakeServer server = FakeServer.start(c -> c.send("421 Try again later\r\n"))) {
            assertResult(CheckStatus.L7STS, 421, "Try again later", run(spec(CheckType.SMTP, server.address())));
        }
    }

    @Test
    void ehloRefusedIsWrongStatusWithItsCode() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.send("220 smtp-check.vtc SMTP Server\r\n");
            c.expectLine("EHLO localhost");
            c.send("512 DNS error\r\n");
            c.awaitClose();
        })) {
            assertResult(CheckStatus.L7STS, 512, "DNS error", run(spec(CheckType.SMTP, server.address())));
        }
    }

    @Test
    void multiLineReplyWithChangingCodeIsAnInvalidResponse() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.send("220-first\r\n250 second\r\n");
            c.awaitClose();
        })) {
            assertResult(CheckStatus.L7RSP, 0, "250 second", run(spec(CheckType.SMTP, server.address())));
        }
    }

    @Test
    void lmtpSaysLhloAndAcceptsAMultiLineReply() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.send("220 mail.example.com Dovecot ready.\r\n");
            c.expectLine("LHLO checker.example.com");
            c.send("250-mail.example.com\r\n250-8BITMIME\r\n250-CHUNKING\r\n250-ENHANCEDSTATUSCODES\r\n"
                    + "250-PIPELINING\r\n250 STARTTLS\r\n");
            c.expectLine("QUIT");
            c.send("221 2.0.0 OK\r\n");
        })) {
            CheckSpec spec = spec(CheckType.LMTP, server.address()).withHeloName("checker.example.com")
                    .withExpectCapabilities(List.of("CHUNKING"));
            assertResult(CheckStatus.L7OK, 250, "", run(spec));
        }
    }

    @Test
    void lmtpReplySplitIntoSingleBytesIsReassembled() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.sendBytewise("220 ready\r\n");
            c.expectLine("LHLO localhost");
            c.sendBytewise("250-mail\r\n250 PIPELINING\r\n");
            c.expectLine("QUIT");
        })) {
            assertResult(CheckStatus.L7OK, 250, "", run(spec(CheckType.LMTP, server.address())));
        }
    }

    @Test
    void lmtpRefusingLhloIsWrongStatus() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.send("220 ready\r\n");
            c.expectLine("LHLO localhost");
            c.send("500 5.5.1 Unknown command\r\n");
            c.awaitClose();
        })) {
            assertResult(CheckStatus.L7STS, 500, "5.5.1 Unknown command", run(spec(CheckType.LMTP, server.address())));
        }
    }

    @Test
    void lmtpClosedAfterLhloIsAnInvalidResponse() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.send("220 ready\r\n");
            c.expectLine("LHLO localhost");
        })) {
            assertResult(CheckStatus.L7RSP, 0, "connection closed while waiting for the LHLO reply",
                    run(spec(CheckType.LMTP, server.address())));
        }
    }
}
