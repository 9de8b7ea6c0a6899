package io.mailproxy.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.MailProxy;
import io.mailproxy.log.LogCapture;
import io.mailproxy.session.ScriptedServer;
import io.mailproxy.tls.GeneratedCertificate;
import io.mailproxy.tls.SelfSignedCertificates;
import io.mailproxy.tls.SelfSignedCertificates.KeyEncoding;
import io.mailproxy.tls.SelfSignedCertificates.KeyType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A TLS frontend's defaults and settings seen by {@code openssl s_client} (OpenSSL 3): no TLS 1.2
 * cipher without forward secrecy and AEAD, no client renegotiation, a certificate per SNI name with
 * the first as default, and sessions resumed across two mailproxy processes that share a ticket
 * key file. No server is needed: all of it happens in the handshake, before mailproxy connects one
 * (the backend points at a closed port).
 */
class TlsDefaultsTest {

    private static final Duration CLIENT_WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private MailProxy start(String name, int port, String tls) {
        int closed = FreePorts.next();
        return ProxyFixture.startFrom(dir.resolve(name + ".conf"), """
                mailproxy {
                  frontends { %s  }
                  backends { pool { send-proxy = none, retries = 0, servers = [%s] } }
                }
                """.formatted(ProxyFixture.frontend("f", port, "imap", "pool", tls), ProxyFixture.server("s1", closed)));
    }

    private static String certificates(GeneratedCertificate... certs) {
        List<String> entries = new ArrayList<>();
        for (GeneratedCertificate c : certs) {
            entries.add("{ cert = \"" + c.certFile() + "\", key = \"" + c.keyFile() + "\" }");
        }
        return "certificates = [" + String.join(", ", entries) + "]";
    }

    private String sClient(int port, List<String> stdin, String... options) {
        // -ign_eof: wait for the server to close (a TLS 1.3 ticket comes after the handshake); it also
        // turns off s_client's command letters, so a test of "R" (renegotiate) passes -no_ign_eof
        List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port));
        if (!List.of(options).contains("-no_ign_eof")) {
            command.add("-ign_eof");
        }
        command.addAll(List.of(options));
        return ExternalClient.run(dir, command, stdin, CLIENT_WAIT).output();
    }

    private GeneratedCertificate rsa(String name) {
        return SelfSignedCertificates.selfSigned(dir.resolve(name), List.of(name), KeyType.RSA_2048, KeyEncoding.PKCS8);
    }

    @Test
    void aTls12ClientOfferingOnlyAes128ShaIsRefusedByDefault() {
        GeneratedCertificate cert = rsa("mail.example.test");
        int port = FreePorts.next();
        try (MailProxy p = start("defaults", port, "tls { mode = implicit, " + certificates(cert) + " }")) {
            String out = sClient(port, List.of(), "-tls1_2", "-cipher", "AES128-SHA:@SECLEVEL=0");
            assertFalse(out.contains("Cipher is AES128-SHA"), out);
            assertTrue(out.contains("alert handshake failure") || out.contains("Cipher is (NONE)"), out);
            // the defaults' TLS 1.2 choice for an RSA certificate: ECDHE with AES-GCM
            String good = sClient(port, List.of(), "-tls1_2");
            assertTrue(good.contains("Cipher is ECDHE-RSA-AES128-GCM-SHA256"), good);
        }
    }

    /** Negative control: the same client against a frontend whose ciphers list allows AES128-SHA gets it. */
    @Test
    void withAes128ShaConfiguredTheSameClientGetsIt() {
        GeneratedCertificate cert = rsa("mail.example.test");
        int port = FreePorts.next();
        try (MailProxy p = start("weak", port, "tls { mode = implicit, " + certificates(cert)
                + ", ciphers = [TLS_RSA_WITH_AES_128_CBC_SHA] }")) {
            String out = sClient(port, List.of(), "-tls1_2", "-cipher", "AES128-SHA:@SECLEVEL=0");
            assertTrue(out.contains("Cipher is AES128-SHA"), out);
        }
    }

    @Test
    void tlsVersionsBelow12AreRefused() {
        GeneratedCertificate cert = rsa("mail.example.test");
        int port = FreePorts.next();
        try (MailProxy p = start("versions", port, "tls { mode = implicit, " + certificates(cert) + " }")) {
            String out = sClient(port, List.of(), "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0");
            assertTrue(out.contains("Cipher is (NONE)") && !out.contains("BEGIN CERTIFICATE"), out);
        }
    }

    /**
     * s_client's "R" asks for a TLS 1.2 renegotiation in a relayed session: mailproxy refuses it,
     * ends the session and logs why.
     */
    @Test
    void clientRenegotiationIsRefused() throws Exception {
        GeneratedCertificate cert = rsa("mail.example.test");
        int port = FreePorts.next();
        try (ScriptedServer server = new ScriptedServer(s -> {
            ScriptedServer.write(s, "* OK ready\r\n");
            ScriptedServer.drain(s);
        });
             LogCapture sessions = LogCapture.sessions();
             MailProxy p = ProxyFixture.startFrom(dir.resolve("reneg.conf"), """
                     mailproxy {
                       frontends { %s  }
                       backends { pool { send-proxy = none, servers = [%s] } }
                     }
                     """.formatted(ProxyFixture.frontend("f", port, "imap", "pool",
                     "tls { mode = implicit, " + certificates(cert) + " }"), ProxyFixture.server("s1", server.port())))) {
            String out = sClient(port, List.of("R", "a NOOP"), "-tls1_2", "-no_ign_eof");
            // s_client sends R as soon as its handshake is done: the server's greeting may not be there yet
            assertTrue(out.contains("RENEGOTIATING"), out);
            String line = sessions.await(l -> l.contains(" f~ pool/"), CLIENT_WAIT);
            assertTrue(line.contains("tls-renegotiation") || line.contains("renegotiat"), line);
        }
    }

    @Test
    void sniChoosesEachDomainsCertificateAndTheFirstIsTheDefault() {
        GeneratedCertificate first = rsa("mail.one.test");
        GeneratedCertificate second = SelfSignedCertificates.selfSigned(dir.resolve("two"), "*.two.test");
        int port = FreePorts.next();
        try (MailProxy p = start("sni", port, "tls { mode = implicit, " + certificates(first, second) + " }")) {
            assertTrue(sClient(port, List.of(), "-servername", "mail.one.test").contains("subject=CN = mail.one.test"));
            assertTrue(sClient(port, List.of(), "-servername", "imap.two.test").contains("subject=CN = *.two.test"));
            String unknown = sClient(port, List.of(), "-servername", "other.example");
            assertTrue(unknown.contains("subject=CN = mail.one.test"), unknown);
            // a wildcard covers one label only
            assertTrue(sClient(port, List.of(), "-servername", "a.b.two.test").contains("subject=CN = mail.one.test"));
        }
    }

    /** An RSA and an ECDSA certificate for the same name: a client that can verify ECDSA gets it, one that cannot gets RSA. */
    @Test
    void rsaAndEcdsaSideBySideEachClientGetsOneItSupports() {
        GeneratedCertificate rsa = rsa("mail.example.test");
        GeneratedCertificate ec = SelfSignedCertificates.selfSigned(dir.resolve("ec"), "mail.example.test");
        int port = FreePorts.next();
        try (MailProxy p = start("bundle", port, "tls { mode = implicit, " + certificates(rsa, ec) + " }")) {
            String any = sClient(port, List.of(), "-servername", "mail.example.test");
            assertTrue(any.contains("Peer signature type: ECDSA"), any);
            String rsaOnly = sClient(port, List.of(), "-servername", "mail.example.test",
                    "-sigalgs", "rsa_pss_rsae_sha256:rsa_pkcs1_sha256");
            assertTrue(rsaOnly.contains("Peer signature type: RSA"), rsaOnly);
            String rsaOnly12 = sClient(port, List.of(), "-tls1_2", "-servername", "mail.example.test",
                    "-sigalgs", "rsa_pss_rsae_sha256:rsa_pkcs1_sha256");
            assertTrue(rsaOnly12.contains("Cipher is ECDHE-RSA-"), rsaOnly12);
        }
    }

    @Test
    void aSessionResumesOnAnotherProcessSharingTheTicketKeyFile() throws IOException {
        GeneratedCertificate cert = rsa("mail.example.test");
        Path keys = dir.resolve("ticket-keys");
        SecureRandom random = new SecureRandom();
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            byte[] key = new byte[48];
            random.nextBytes(key);
            lines.append(Base64.getEncoder().encodeToString(key)).append('\n');
        }
        Files.writeString(keys, lines);
        String shared = "tls { mode = implicit, " + certificates(cert) + ", ticket-keys-file = \"" + keys + "\" }";
        String own = "tls { mode = implicit, " + certificates(cert) + " }";
        int a = FreePorts.next();
        int b = FreePorts.next();
        int c = FreePorts.next();
        Path session = dir.resolve("session.pem");
        try (MailProxy first = start("node-a", a, shared); MailProxy second = start("node-b", b, shared);
             MailProxy third = start("node-c", c, own)) {
            String out = sClient(a, List.of(), "-sess_out", session.toString());
            assertTrue(out.contains("New, TLSv1.3"), out);
            String resumed = sClient(b, List.of(), "-sess_in", session.toString());
            assertTrue(resumed.contains("Reused, TLSv1.3"), resumed);
            // negative control: a process with its own keys cannot decrypt the ticket
            String fresh = sClient(c, List.of(), "-sess_in", session.toString());
            assertTrue(fresh.contains("New, TLSv1.3"), fresh);
            assertNotEquals(resumed, fresh);
        }
    }
}
