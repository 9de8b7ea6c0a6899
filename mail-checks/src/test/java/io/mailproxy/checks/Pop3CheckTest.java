package io.mailproxy.checks;

import java.util.List;
import org.junit.jupiter.api.Test;

class Pop3CheckTest extends CheckTestSupport {

    @Test
    void goodExchangeWithMultiLineCapaPassesAndQuits() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.send("+OK Dovecot ready.\r\n");
            c.expectLine("CAPA");
            c.send("+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nUSER\r\nSASL PLAIN LOGIN\r\n.\r\n");
            c.expectLine("QUIT");
            c.send("+OK Logging out\r\n");
        })) {
            CheckSpec spec = spec(CheckType.POP3, server.address()).withExpectCapabilities(List.of("uidl", "SASL"));
            assertResult(CheckStatus.L7OK, 0, "", run(spec));
        }
    }

    @Test
    void capaListSplitIntoSingleBytesIsReassembled() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.sendBytewise("+OK ready\r\n");
            c.expectLine("CAPA");
            c.sendBytewise("+OK Capability list follows\r\nTOP\r\nUSER\r\n.\r\n");
            c.expectLine("QUIT");
        })) {
            assertResult(CheckStatus.L7OK, 0, "", run(spec(CheckType.POP3, server.address())));
        }
    }

    @Test
    void errGreetingIsWrongStatus() throws Exception {
        try (FakeServer server = FakeServer.start(c -> c.send("-ERR [SYS/TEMP] Server shutting down.\r\n"))) {
            assertResult(CheckStatus.L7STS, 0, "-ERR [SYS/TEMP] Server shutting down.",
                    run(spec(CheckType.POP3, server.address())));
        }
    }

    @Test
    void errToCapaIsWrongStatus() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.send("+OK ready\r\n");
            c.expectLine("CAPA");
            c.send("-ERR Unknown command\r\n");
            c.awaitClose();
        })) {
            assertResult(CheckStatus.L7STS, 0, "-ERR Unknown command", run(spec(CheckType.POP3, server.address())));
        }
    }

    @Test
    void missingCapabilityIsAnInvalidResponse() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.send("+OK ready\r\n");
            c.expectLine("CAPA");
            c.send("+OK\r\nUSER\r\n.\r\n");
            c.awaitClose();
        })) {
            CheckSpec spec = spec(CheckType.POP3, server.address()).withExpectCapabilities(List.of("UIDL"));
            assertResult(CheckStatus.L7RSP, 0, "missing capability UIDL", run(spec));
        }
    }

    @Test
    void closedInTheMiddleOfTheCapaListIsAnInvalidResponse() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.send("+OK ready\r\n");
            c.expectLine("CAPA");
            c.send("+OK\r\nUSER\r\n");
        })) {
            assertResult(CheckStatus.L7RSP, 0, "connection closed while waiting for the CAPA reply",
                    run(spec(CheckType.POP3, server.address())));
        }
    }

    @Test
    void imapGreetingIsAnInvalidResponse() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.send("* OK IMAP ready\r\n");
            c.awaitClose();
        })) {
            assertResult(CheckStatus.L7RSP, 0, "* OK IMAP ready", run(spec(CheckType.POP3, server.address())));
        }
    }
}
