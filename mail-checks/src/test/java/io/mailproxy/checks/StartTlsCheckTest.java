package io.mailproxy.checks;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.InputStream;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import org.junit.jupiter.api.Test;

/**
 * Checks that upgrade with STARTTLS (STLS for POP3) as a client would, then check as usual; what
 * was announced before TLS does not count; a server reply with bytes behind it is refused; and a
 * check told whom to trust fails against anyone else.
 */
class StartTlsCheckTest extends CheckTestSupport {

    private static final CheckTls STARTTLS = CheckTls.STARTTLS;
    /** Two TLS handshakes on a loaded machine (a fake server's JDK engine is slow to start): generous. */
    private static final java.time.Duration TLS_TIMEOUT = java.time.Duration.ofSeconds(8);

    /** A STARTTLS check of {@code type} with a timeout for TLS on a busy machine. */
    private static CheckSpec tlsSpec(CheckType type, java.net.InetSocketAddress target) {
        return spec(type, target).withTls(STARTTLS).withTimeout(TLS_TIMEOUT);
    }

    static void imapWithStartTls(FakeServer.Conn plain) throws Exception {
        FakeServer.Conn c = imapUpToCapabilities(plain);
        c.expectLine("C2 LOGOUT");
        c.send("* BYE Logging out\r\nC2 OK Logout completed.\r\n");
    }

    private static FakeServer.Conn imapUpToCapabilities(FakeServer.Conn plain) throws Exception {
        plain.send("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED X-BEFORE-TLS] ready.\r\n");
        plain.expectLine("C0 STARTTLS");
        plain.send("C0 OK Begin TLS negotiation now.\r\n");
        FakeServer.Conn c = plain.startTls();
        c.expectLine("C1 CAPABILITY");
        c.send("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nC1 OK Capability completed.\r\n");
        return c;
    }

    @Test
    void imapUpgradesThenAsksForCapabilities() throws Exception {
        try (FakeServer server = FakeServer.start(StartTlsCheckTest::imapWithStartTls)) {
            assertResult(CheckStatus.L7OK, 0, "", run(tlsSpec(CheckType.IMAP, server.address())
                    .withExpectCapabilities(java.util.List.of("AUTH=PLAIN"))));
        }
    }

    @Test
    void capabilitiesAnnouncedBeforeTlsAreForgotten() throws Exception {
        // Negative control of the test above: the same server, a capability only the greeting had.
        try (FakeServer server = FakeServer.start(c -> imapUpToCapabilities(c).awaitClose())) {
            assertResult(CheckStatus.L7RSP, 0, "missing capability X-BEFORE-TLS",
                    run(tlsSpec(CheckType.IMAP, server.address())
                            .withExpectCapabilities(java.util.List.of("X-BEFORE-TLS"))));
        }
    }

    @Test
    void pop3UpgradesWithStls() throws Exception {
        try (FakeServer server = FakeServer.start(plain -> {
            plain.send("+OK ready.\r\n");
            plain.expectLine("STLS");
            plain.send("+OK Begin TLS negotiation now.\r\n");
            FakeServer.Conn c = plain.startTls();
            c.expectLine("CAPA");
            c.send("+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n");
            c.expectLine("QUIT");
            c.send("+OK Logging out.\r\n");
        })) {
            assertResult(CheckStatus.L7OK, 0, "", run(tlsSpec(CheckType.POP3, server.address())
                    .withExpectCapabilities(java.util.List.of("SASL"))));
        }
    }

    @Test
    void lmtpSaysLhloAgainAfterTls() throws Exception {
        try (FakeServer server = FakeServer.start(plain -> {
            plain.send("220 mx.example.com LMTP ready\r\n");
            plain.expectLine("LHLO localhost");
            plain.send("250-mx.example.com\r\n250-STARTTLS\r\n250 ENHANCEDSTATUSCODES\r\n");
            plain.expectLine("STARTTLS");
            plain.send("220 2.0.0 Ready to start TLS\r\n");
            FakeServer.Conn c = plain.startTls();
            c.expectLine("LHLO localhost");
            c.send("250-mx.example.com\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
            c.expectLine("QUIT");
            c.send("221 2.0.0 Bye\r\n");
        })) {
            assertResult(CheckStatus.L7OK, 250, "", run(tlsSpec(CheckType.LMTP, server.address())
                    .withExpectCapabilities(java.util.List.of("PIPELINING"))));
        }
    }

    @Test
    void aRefusedStartTlsIsWrongStatus() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.send("* OK [CAPABILITY IMAP4rev1] ready.\r\n");
            c.expectLine("C0 STARTTLS");
            c.send("C0 BAD Unknown command.\r\n");
            c.awaitClose();
        })) {
            assertResult(CheckStatus.L7STS, 0, "C0 BAD Unknown command.",
                    run(tlsSpec(CheckType.IMAP, server.address())));
        }
    }

    @Test
    void bytesBehindTheStartTlsReplyFailTheCheck() throws Exception {
        // What an attacker in the path would add for the client to read as if it came over TLS.
        try (FakeServer server = FakeServer.start(c -> {
            c.send("+OK ready.\r\n");
            c.expectLine("STLS");
            c.send("+OK Begin TLS negotiation now.\r\n+OK injected\r\n");
            c.awaitClose();
        })) {
            assertResult(CheckStatus.L7RSP, 0, "data after the STARTTLS reply, before TLS",
                    run(tlsSpec(CheckType.POP3, server.address())));
        }
    }

    @Test
    void aServerThatDoesNotSpeakTlsAfterAgreeingIsLayer6() throws Exception {
        try (FakeServer server = FakeServer.start(c -> {
            c.send("+OK ready.\r\n");
            c.expectLine("STLS");
            c.send("+OK Begin TLS negotiation now.\r\n");
            c.readBytes(5);
            c.send("-ERR what is this\r\n");
            c.awaitClose();
        })) {
            assertResult(CheckStatus.L6RSP, 0, CheckHandler.SSL_HANDSHAKE_FAILURE,
                    run(tlsSpec(CheckType.POP3, server.address())));
        }
    }

    @Test
    void aTrustingContextPassesOnlyTheServerItTrusts() throws Exception {
        SslContext trustsServer = SslContextBuilder.forClient().trustManager(serverCertificate())
                .endpointIdentificationAlgorithm(null).build();
        // The JDK's own trust store: public CAs, none of which signed the fake server's certificate.
        SslContext trustsNobodyHere = SslContextBuilder.forClient().endpointIdentificationAlgorithm(null).build();
        try (FakeServer server = FakeServer.start(StartTlsCheckTest::imapWithStartTls)) {
            assertResult(CheckStatus.L7OK, 0, "", run(spec(CheckType.IMAP, server.address())
                    .withTls(STARTTLS.trusting(trustsServer, null)).withTimeout(TLS_TIMEOUT)));
        }
        try (FakeServer server = FakeServer.start(c -> {
            c.send("* OK ready.\r\n");
            c.expectLine("C0 STARTTLS");
            c.send("C0 OK Begin TLS negotiation now.\r\n");
            try {
                c.startTls().readLine();
            } catch (java.io.IOException refusedByTheCheck) {
                // the check does not trust this certificate: the handshake fails on both sides
            }
        })) {
            assertResult(CheckStatus.L6RSP, 0, CheckHandler.SSL_HANDSHAKE_FAILURE, run(spec(CheckType.IMAP,
                    server.address()).withTls(STARTTLS.trusting(trustsNobodyHere, null)).withTimeout(TLS_TIMEOUT)));
        }
    }

    @Test
    void aTcpCheckCannotStartTls() {
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> spec(CheckType.TCP, new java.net.InetSocketAddress("127.0.0.1", 1)).withTls(STARTTLS));
    }

    private static X509Certificate serverCertificate() throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = StartTlsCheckTest.class.getResourceAsStream("/tls/server.p12")) {
            keys.load(in, "changeit".toCharArray());
        }
        return (X509Certificate) keys.getCertificate(keys.aliases().nextElement());
    }
}
