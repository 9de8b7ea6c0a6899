package io.mailproxy.reload;

import static io.mailproxy.session.ScriptedServer.readLine;
import static io.mailproxy.session.ScriptedServer.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.log.LogCapture;
import io.mailproxy.session.ProxyRunner;
import io.mailproxy.session.ScriptedServer;
import io.mailproxy.tls.CertificateWatcher;
import io.mailproxy.tls.GeneratedCertificate;
import io.mailproxy.tls.SelfSignedCertificates;
import io.mailproxy.tls.TrustAll;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Certificates that follow their files ({@code tls.reload-certificates}): replaced files are used
 * by the next handshake without a signal, an open session goes on, and a broken key keeps the
 * certificate in use.
 */
class CertificateRotationTest {

    /** Longer than the watcher's interval, with room for a loaded machine. */
    private static final Duration NOTICED = CertificateWatcher.INTERVAL.multipliedBy(6);

    @TempDir
    Path dir;

    private ProxyRunner start(Path cert, Path key, boolean follow, ScriptedServer backend) throws Exception {
        return ProxyRunner.start(dir, """
                frontends {
                  imaps {
                    bind = ["127.0.0.1:%%PORT%%"], backend = pool
                    tls { mode = implicit, certificates = [ { cert = "%s", key = "%s" } ], reload-certificates = %s }
                  }
                }
                backends { pool { send-proxy = none, servers = [ { name = s1, address = "127.0.0.1:%d" } ] } }
                """.formatted(cert, key, follow, backend.port()).replace("%%PORT%%", "%PORT%"));
    }

    @Test
    void replacedFilesAreUsedByTheNextHandshakeAndABrokenKeyKeepsTheCertificateInUse() throws Exception {
        Path live = Files.createDirectories(dir.resolve("live"));
        GeneratedCertificate first = SelfSignedCertificates.selfSigned(dir.resolve("first"), "first.example.test");
        GeneratedCertificate second = SelfSignedCertificates.selfSigned(dir.resolve("second"), "second.example.test");
        Path cert = Files.copy(first.certFile(), live.resolve("cert.pem"));
        Path key = Files.copy(first.keyFile(), live.resolve("key.pem"));
        try (LogCapture watcher = LogCapture.attach(CertificateWatcher.class.getName());
             ScriptedServer backend = new ScriptedServer(s -> {
                 write(s, "* OK ready\r\n");
                 while (readLine(s) != null) {
                     write(s, "* still here\r\n");
                 }
             });
             ProxyRunner proxy = start(cert, key, true, backend);
             SSLSocket open = connect(proxy.port)) {
            assertEquals("first.example.test", name(open));
            assertEquals("* OK ready", readLine(open));

            // certbot's way: new files moved into place
            replace(second.certFile(), cert);
            replace(second.keyFile(), key);
            assertNotNull(watcher.await(l -> l.contains("frontend imaps: certificate files changed"), NOTICED),
                    watcher.lines().toString());
            try (SSLSocket next = connect(proxy.port)) {
                assertEquals("second.example.test", name(next), "the next handshake presents the new certificate");
            }
            assertEquals("second.example.test", opensslSubject(proxy.port), "as a client no one here wrote sees it");
            write(open, "a NOOP\r\n");
            assertEquals("* still here", readLine(open), "the session opened before goes on");

            // a key that does not belong to the certificate: refused, the second certificate stays
            replace(first.keyFile(), key);
            assertNotNull(watcher.await(l -> l.contains("cannot be used, the previous certificates stay"), NOTICED),
                    watcher.lines().toString());
            try (SSLSocket next = connect(proxy.port)) {
                assertEquals("second.example.test", name(next));
            }
            // the pair made whole again is picked up
            replace(first.certFile(), cert);
            assertTrue(ProxyRunner.await(() -> watcher.lines().stream()
                    .filter(l -> l.contains("certificate files changed, new handshakes use them")).count() == 2, NOTICED),
                    watcher.lines().toString());
            try (SSLSocket next = connect(proxy.port)) {
                assertEquals("first.example.test", name(next));
            }
        }
    }

    /** Negative control: with {@code reload-certificates = false} the files are not followed. */
    @Test
    void withoutFollowingTheOldCertificateStays() throws Exception {
        GeneratedCertificate first = SelfSignedCertificates.selfSigned(dir.resolve("first"), "first.example.test");
        GeneratedCertificate second = SelfSignedCertificates.selfSigned(dir.resolve("second"), "second.example.test");
        Path cert = Files.copy(first.certFile(), dir.resolve("cert.pem"));
        Path key = Files.copy(first.keyFile(), dir.resolve("key.pem"));
        try (LogCapture watcher = LogCapture.attach(CertificateWatcher.class.getName());
             ScriptedServer backend = new ScriptedServer(s -> write(s, "* OK ready\r\n"));
             ProxyRunner proxy = start(cert, key, false, backend)) {
            replace(second.certFile(), cert);
            replace(second.keyFile(), key);
            // as long as the watcher would have needed, twice
            assertThrows(AssertionError.class, () -> watcher.await(l -> l.contains("certificate files changed"),
                    CertificateWatcher.INTERVAL.multipliedBy(2)));
            try (SSLSocket next = connect(proxy.port)) {
                assertEquals("first.example.test", name(next));
            }
        }
    }

    /** The CN of the certificate {@code openssl s_client} is shown (it sends nothing and leaves). */
    private static String opensslSubject(int port) throws Exception {
        Process p = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + port, "-servername",
                "mail.example.test").redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), out);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("subject=\\s*CN\\s*=\\s*(\\S+)").matcher(out);
        assertTrue(m.find(), out);
        return m.group(1);
    }

    private static void replace(Path from, Path to) throws Exception {
        Path tmp = Files.copy(from, to.resolveSibling(to.getFileName() + ".new"), StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static SSLSocket connect(int port) throws Exception {
        SSLSocket s = (SSLSocket) TrustAll.context().getSocketFactory().createSocket("127.0.0.1", port);
        s.setSoTimeout(20_000);
        s.startHandshake();
        return s;
    }

    /** The common name of the certificate the server presented. */
    private static String name(SSLSocket s) throws Exception {
        X509Certificate c = (X509Certificate) s.getSession().getPeerCertificates()[0];
        String dn = c.getSubjectX500Principal().getName();
        assertTrue(dn.startsWith("CN="), dn);
        return dn.substring(3).split(",")[0];
    }
}
