package io.mailproxy.dovecot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The configuration in both syntaxes. The 2.3 one is also read by the installed Dovecot 2.3's
 * {@code doveconf} (the tests need it installed, as the integration tests do); the 2.4 one is read
 * by a real 2.4 in the integration tests of the 2.4 targets.
 */
class DovecotConfigTest {

    private static final DovecotPorts PORTS = new DovecotPorts(10143, 10144, 10110, 10111, 10024, 10025);

    @TempDir
    Path dir;

    private DovecotConfig config(DovecotVersion version, boolean disablePlaintextAuth) {
        DovecotOptions options = DovecotOptions.builder().name("cfg")
                .target(new DovecotTarget(version, DovecotTarget.Runtime.PROCESS))
                .disablePlaintextAuth(disablePlaintextAuth).build();
        DovecotConfig.CertificatePair tls = DovecotConfig.needsCertificate(options)
                ? new DovecotConfig.CertificatePair(dir.resolve("cert.pem"), dir.resolve("key.pem")) : null;
        return new DovecotConfig(options, PORTS, dir, dir.resolve("dovecot.log").toString(), ProcessUser.ROOT,
                ProcessUser.NOBODY, tls);
    }

    @Test
    void dovecot23SyntaxIsReadByTheInstalledDoveconf() throws IOException {
        String text = config(DovecotVersion.V2_3, true).render();
        assertTrue(text.contains("\ndisable_plaintext_auth = yes\n"), text);
        assertTrue(text.contains("\nmail_location = maildir:~/Maildir\n"), text);
        assertTrue(text.contains("\npassdb {\n  driver = static\n  args = password=demo\n}\n"), text);
        assertFalse(text.contains("dovecot_config_version"), text);
        Path file = Files.writeString(dir.resolve("dovecot.conf"), text);
        Commands.Result r = Commands.exec(List.of("doveconf", "-n", "-c", file.toString()), Commands.SHORT, null);
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("haproxy = yes"), r.output());
    }

    @Test
    void dovecot24SyntaxUsesTheNewNames() {
        String text = config(DovecotVersion.V2_4, true).render();
        assertTrue(text.startsWith("dovecot_config_version = 2.4.0\ndovecot_storage_version = 2.4.0\n"), text);
        assertTrue(text.contains("\nauth_allow_cleartext = no\n"), text);
        // 2.4 counts every haproxy connection as secured unless ssl = required
        assertTrue(text.contains("\nssl = required\nssl_server_cert_file = " + dir.resolve("cert.pem") + "\n"), text);
        assertTrue(text.contains("\npassdb static {\n  password = demo\n}\n"), text);
        assertTrue(text.contains("\n    home = " + dir.resolve("home") + "/%{user | username}\n"), text);
        assertTrue(text.contains("\nmail_driver = maildir\nmail_path = ~/Maildir\n"), text);
        for (String gone : List.of("disable_plaintext_auth", "mail_location", "driver = static", "args = ")) {
            assertFalse(text.contains(gone), gone + " in\n" + text);
        }
    }

    @Test
    void dovecot24WithPlaintextAuthNeedsNoCertificate() {
        String text = config(DovecotVersion.V2_4, false).render();
        assertTrue(text.contains("\nssl = no\n") && text.contains("\nauth_allow_cleartext = yes\n"), text);
        assertFalse(text.contains("ssl_server_cert_file"), text);
    }

    @Test
    void everyServiceKeepsAProcessReadyAndTheTlsListenersOff() {
        for (DovecotVersion v : DovecotVersion.values()) {
            String text = config(v, true).render();
            assertEquals(3, text.split("process_min_avail = 1", -1).length - 1, text);
            assertTrue(text.contains("  inet_listener imap_haproxy {\n    port = 10144\n    haproxy = yes\n  }\n"), text);
            assertTrue(text.contains("  inet_listener imaps {\n    port = 0\n  }\n"), text);
        }
    }
}
