package io.mailproxy.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.config.CertificateFiles;
import io.mailproxy.config.ConfigLoader;
import io.mailproxy.config.TlsSettings;
import io.mailproxy.mail.MailProtocol;
import io.mailproxy.tls.SelfSignedCertificates.KeyEncoding;
import io.mailproxy.tls.SelfSignedCertificates.KeyType;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every PEM form admins meet loads through {@link PemFiles} and {@link ServerTls#build}, with both
 * TLS engines; bad pairs are refused with a sentence; SNI picks the certificate.
 */
class ServerTlsTest {

    @TempDir
    Path dir;

    /** TLS settings for the given certificate entries, read through the configuration loader. */
    private TlsSettings settings(List<Path[]> entries) throws Exception {
        StringBuilder list = new StringBuilder();
        for (Path[] e : entries) {
            list.append("{ cert = \"").append(e[0]).append("\", key = \"").append(e[1]).append("\" }\n");
        }
        Path file = Files.writeString(Files.createTempFile(dir, "tls", ".conf"), """
                mailproxy {
                  frontends { imaps {
                    bind = ["127.0.0.1:10993"]
                    backend = pool
                    tls { mode = implicit, certificates = [
                %s
                    ] }
                  } }
                  backends { pool { servers = [ { name = dc1, address = "127.0.0.1:20143" } ] } }
                }
                """.formatted(list));
        return ConfigLoader.load(file).frontends().get("imaps").tls();
    }

    private TlsSettings settings(Path cert, Path key) throws Exception {
        return settings(List.<Path[]>of(new Path[] {cert, key}));
    }

    private static ServerTls build(TlsSettings settings, SslProvider provider) throws ServerTls.TlsProblem {
        return ServerTls.build("imaps", settings, MailProtocol.IMAP, provider);
    }

    // ---- generated forms ----

    @ParameterizedTest
    @CsvSource({
            "EC_P256, PKCS8, JDK", "EC_P256, TRADITIONAL, JDK", "RSA_2048, PKCS8, JDK", "RSA_2048, TRADITIONAL, JDK",
            "EC_P256, PKCS8, OPENSSL", "EC_P256, TRADITIONAL, OPENSSL",
            "RSA_2048, PKCS8, OPENSSL", "RSA_2048, TRADITIONAL, OPENSSL"})
    void generatedKeysLoad(KeyType type, KeyEncoding encoding, SslProvider provider) throws Exception {
        GeneratedCertificate g = SelfSignedCertificates.selfSigned(dir, List.of("mail.example.test"), type, encoding);
        String header = encoding == KeyEncoding.PKCS8 ? "-----BEGIN PRIVATE KEY-----"
                : type == KeyType.RSA_2048 ? "-----BEGIN RSA PRIVATE KEY-----" : "-----BEGIN EC PRIVATE KEY-----";
        assertTrue(Files.readString(g.keyFile()).startsWith(header));

        PrivateKey key = PemFiles.privateKey(g.keyFile());
        assertEquals(type == KeyType.RSA_2048 ? "RSA" : "EC", key.getAlgorithm());
        assertEquals(List.of(g.certificate()), PemFiles.certificates(g.certFile()));
        ServerTls tls = build(settings(g.certFile(), g.keyFile()), provider);
        assertEquals(provider, tls.provider());
    }

    @ParameterizedTest
    @EnumSource(value = SslProvider.class, names = {"JDK", "OPENSSL"})
    void chainOfLeafAndCaLoadsLeafFirst(SslProvider provider) throws Exception {
        GeneratedCertificate g = SelfSignedCertificates.signedByNewCa(dir, List.of("mail.example.test"),
                KeyType.EC_P256, KeyEncoding.TRADITIONAL);
        List<X509Certificate> chain = PemFiles.certificates(g.certFile());
        assertEquals(2, chain.size());
        assertEquals(g.certificate(), chain.get(0));
        assertEquals(g.ca(), chain.get(1));
        build(settings(g.certFile(), g.keyFile()), provider);
    }

    // ---- as openssl writes them ----

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            // SEC1 with the EC PARAMETERS block in front, what `openssl ecparam -genkey` writes.
            "ecparam -name prime256v1 -genkey -out KEY                        | -----BEGIN EC PARAMETERS-----   | EC",
            "ecparam -name prime256v1 -genkey -noout -out KEY                 | -----BEGIN EC PRIVATE KEY-----  | EC",
            "ecparam -name secp384r1 -genkey -out KEY                         | -----BEGIN EC PARAMETERS-----   | EC",
            "genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out KEY  | -----BEGIN PRIVATE KEY-----     | EC",
            "genrsa -traditional -out KEY 2048                                | -----BEGIN RSA PRIVATE KEY----- | RSA",
            "genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out KEY    | -----BEGIN PRIVATE KEY-----     | RSA",
    })
    void opensslWrittenKeysLoad(String generate, String firstLine, String algorithm) throws Exception {
        Path key = dir.resolve("key.pem");
        Path cert = dir.resolve("cert.pem");
        openssl(generate.replace("KEY", key.toString()).split(" "));
        openssl("req", "-new", "-x509", "-key", key.toString(), "-subj", "/CN=mail.example.test", "-days", "2",
                "-out", cert.toString());
        assertTrue(Files.readString(key).startsWith(firstLine), Files.readString(key));

        assertEquals(algorithm, PemFiles.privateKey(key).getAlgorithm());
        build(settings(cert, key), SslProvider.JDK);
        build(settings(cert, key), SslProvider.OPENSSL);
    }

    // ---- refusals ----

    @Test
    void keyOfAnotherCertificateIsRefused() throws Exception {
        GeneratedCertificate a = SelfSignedCertificates.selfSigned(dir.resolve("a"), "a.example.test");
        GeneratedCertificate b = SelfSignedCertificates.selfSigned(dir.resolve("b"), "b.example.test");
        TlsSettings s = settings(a.certFile(), b.keyFile());
        ServerTls.CertificateProblem e = assertThrows(ServerTls.CertificateProblem.class, () -> build(s, SslProvider.JDK));
        assertEquals("the key in " + b.keyFile() + " does not belong to the certificate in " + a.certFile()
                + " (CN=a.example.test)", e.getMessage());
        assertEquals("mailproxy.frontends.imaps.tls.certificates.0", e.files().path());
        // An RSA key for an EC certificate is refused as well, before any signature is tried.
        GeneratedCertificate rsa = SelfSignedCertificates.selfSigned(dir.resolve("rsa"), List.of("r.example.test"),
                KeyType.RSA_2048, KeyEncoding.PKCS8);
        assertThrows(ServerTls.CertificateProblem.class, () -> build(settings(a.certFile(), rsa.keyFile()), SslProvider.JDK));
    }

    @Test
    void unsupportedKeyAlgorithmIsNamed() throws Exception {
        Path key = dir.resolve("ed.pem");
        openssl("genpkey", "-algorithm", "ed25519", "-out", key.toString());
        PemFiles.PemException e = assertThrows(PemFiles.PemException.class, () -> PemFiles.privateKey(key));
        assertEquals(key + " holds a key of algorithm 1.3.101.112; RSA and EC keys are supported", e.getMessage());
    }

    @Test
    void pemFileProblemsAreOneSentence() throws Exception {
        GeneratedCertificate g = SelfSignedCertificates.selfSigned(dir, "mail.example.test");
        // A key file given as the certificate, and the reverse.
        assertEquals(g.keyFile() + " holds no PEM certificate (\"-----BEGIN CERTIFICATE-----\")",
                assertThrows(PemFiles.PemException.class, () -> PemFiles.certificates(g.keyFile())).getMessage());
        assertTrue(assertThrows(PemFiles.PemException.class, () -> PemFiles.privateKey(g.certFile()))
                .getMessage().startsWith(g.certFile() + " holds no PEM private key"));
        Path two = Files.writeString(dir.resolve("two.pem"), Files.readString(g.keyFile()) + Files.readString(g.keyFile()));
        assertEquals(two + " holds more than one private key",
                assertThrows(PemFiles.PemException.class, () -> PemFiles.privateKey(two)).getMessage());
        Path missing = dir.resolve("missing.pem");
        assertEquals(missing + " does not exist",
                assertThrows(PemFiles.PemException.class, () -> PemFiles.certificates(missing)).getMessage());
        // A certificate and its key in one file (a common "combined PEM") still work for both roles.
        Path combined = Files.writeString(dir.resolve("combined.pem"),
                Files.readString(g.certFile()) + Files.readString(g.keyFile()));
        assertEquals(List.of(g.certificate()), PemFiles.certificates(combined));
        assertEquals("EC", PemFiles.privateKey(combined).getAlgorithm());
    }

    // ---- names and SNI ----

    @Test
    void namesComeFromSubjectAltNamesElseTheCommonName() throws Exception {
        GeneratedCertificate g = SelfSignedCertificates.selfSigned(dir.resolve("san"),
                List.of("Mail.Example.TEST", "*.example.test", "127.0.0.1"), KeyType.EC_P256, KeyEncoding.PKCS8);
        CertificateFiles files = settings(g.certFile(), g.keyFile()).certificates().get(0);
        // DNS names only, lower-cased; the IP address is not a name SNI can carry.
        assertEquals(List.of("mail.example.test", "*.example.test"), ServerTls.names(files, leaf(files)));

        Path key = dir.resolve("cn-key.pem");
        Path cert = dir.resolve("cn-cert.pem");
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key.toString());
        openssl("req", "-new", "-x509", "-key", key.toString(), "-subj", "/O=Example/CN=Legacy.Example.TEST", "-days", "2",
                "-out", cert.toString());
        CertificateFiles legacy = settings(cert, key).certificates().get(0);
        assertEquals(List.of("legacy.example.test"), ServerTls.names(legacy, leaf(legacy)));
    }

    private static java.security.cert.X509Certificate leaf(CertificateFiles files) throws PemFiles.PemException {
        return PemFiles.certificates(files.cert()).get(0);
    }

    @ParameterizedTest
    @EnumSource(value = SslProvider.class, names = {"JDK", "OPENSSL"})
    void sniChoosesTheCertificateAndTheFirstIsTheDefault(SslProvider provider) throws Exception {
        GeneratedCertificate a = SelfSignedCertificates.selfSigned(dir.resolve("a"), "a.example.test");
        GeneratedCertificate b = SelfSignedCertificates.selfSigned(dir.resolve("b"), "*.b.example.test");
        ServerTls tls = build(settings(List.of(new Path[] {a.certFile(), a.keyFile()},
                new Path[] {b.certFile(), b.keyFile()})), provider);

        assertEquals(b.certificate(), handshake(tls, "imap.b.example.test"));
        assertEquals(a.certificate(), handshake(tls, "a.example.test"));
        // No SNI, or a name no certificate carries: the first entry.
        assertEquals(a.certificate(), handshake(tls, null));
        assertEquals(a.certificate(), handshake(tls, "other.example.test"));
    }

    /** A handshake between two embedded channels; returns the certificate the server presented. */
    private static X509Certificate handshake(ServerTls tls, String sni) throws Exception {
        SslContext client = SslContextBuilder.forClient().sslProvider(SslProvider.JDK)
                .trustManager(InsecureTrustManagerFactory.INSTANCE).build();
        EmbeddedChannel clientCh = new EmbeddedChannel();
        EmbeddedChannel serverCh = new EmbeddedChannel();
        try {
            SslHandler clientTls = sni == null ? client.newHandler(clientCh.alloc())
                    : client.newHandler(clientCh.alloc(), sni, 993);
            clientCh.pipeline().addLast(clientTls);
            serverCh.pipeline().addLast(tls.newHandler());
            for (int round = 0; round < 20 && !clientTls.handshakeFuture().isDone(); round++) {
                shuttle(clientCh, serverCh);
                shuttle(serverCh, clientCh);
            }
            assertTrue(clientTls.handshakeFuture().isSuccess(), String.valueOf(clientTls.handshakeFuture().cause()));
            return (X509Certificate) clientTls.engine().getSession().getPeerCertificates()[0];
        } finally {
            clientCh.finishAndReleaseAll();
            serverCh.finishAndReleaseAll();
        }
    }

    private static void shuttle(EmbeddedChannel from, EmbeddedChannel to) {
        ByteBuf b;
        while ((b = from.readOutbound()) != null) {
            to.writeInbound(b);
        }
        to.runPendingTasks();
    }

    private void openssl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "openssl hangs");
        assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + out);
        assertFalse(out.contains("error"), out);
    }
}
