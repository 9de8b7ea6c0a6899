package io.mailproxy.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.tls.SelfSignedCertificates.KeyEncoding;
import io.mailproxy.tls.SelfSignedCertificates.KeyType;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SelfSignedCertificatesTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void selfSignedWithPkcs8KeyParsesBack(KeyType type) throws Exception {
        GeneratedCertificate g = SelfSignedCertificates.selfSigned(dir,
                List.of("mail.example.test", "127.0.0.1", "::1"), type, KeyEncoding.PKCS8);

        List<X509Certificate> certs = readCertificates(g.certFile());
        assertEquals(1, certs.size());
        X509Certificate cert = certs.get(0);
        cert.verify(cert.getPublicKey());
        cert.checkValidity();
        assertEquals("CN=mail.example.test", cert.getSubjectX500Principal().getName());
        assertTrue(cert.getNotAfter().toInstant().isAfter(Instant.now().plus(Duration.ofDays(364))));
        assertEquals(List.of(List.of(2, "mail.example.test"), List.of(7, "127.0.0.1"), List.of(7, "0:0:0:0:0:0:0:1")),
                sans(cert));
        assertEquals(-1, cert.getBasicConstraints());
        assertEquals(g.certFile(), g.caFile());

        String keyText = Files.readString(g.keyFile());
        assertTrue(keyText.startsWith("-----BEGIN PRIVATE KEY-----\n"), keyText);
        Object key = readSingle(g.keyFile());
        PrivateKeyInfo info = assertInstanceOf(PrivateKeyInfo.class, key);
        assertArrayEquals(g.privateKey().getEncoded(), new JcaPEMKeyConverter().getPrivateKey(info).getEncoded());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(g.keyFile())));
        assertOpenSslAccepts(g, type);
    }

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void traditionalKeyEncodingIsPkcs1OrSec1(KeyType type) throws Exception {
        GeneratedCertificate g = SelfSignedCertificates.selfSigned(dir, List.of("localhost"), type,
                KeyEncoding.TRADITIONAL);

        String header = type == KeyType.RSA_2048 ? "-----BEGIN RSA PRIVATE KEY-----" : "-----BEGIN EC PRIVATE KEY-----";
        assertTrue(Files.readString(g.keyFile()).startsWith(header + "\n"));
        PEMKeyPair pair = assertInstanceOf(PEMKeyPair.class, readSingle(g.keyFile()));
        // The key in key.pem belongs to the certificate in cert.pem: it signs what the certificate verifies.
        // (Byte comparison with the JDK's encoding does not work: SEC1 carries the curve and public key inside.)
        PrivateKey fromKeyFile = new JcaPEMKeyConverter().getPrivateKey(pair.getPrivateKeyInfo());
        assertTrue(signsFor(fromKeyFile, g.certificate(), type));
        PublicKey publicFromKeyFile = new JcaPEMKeyConverter().getPublicKey(pair.getPublicKeyInfo());
        assertArrayEquals(g.certificate().getPublicKey().getEncoded(), publicFromKeyFile.getEncoded());
        assertOpenSslAccepts(g, type);
    }

    @Test
    void caSignedChainVerifiesAndLoads() throws Exception {
        GeneratedCertificate g = SelfSignedCertificates.signedByNewCa(dir, List.of("imap.example.test"),
                KeyType.EC_P256, KeyEncoding.TRADITIONAL);

        List<X509Certificate> chain = readCertificates(g.certFile());
        assertEquals(2, chain.size());
        X509Certificate leaf = chain.get(0);
        X509Certificate ca = chain.get(1);
        assertEquals(readCertificates(g.caFile()), List.of(ca));
        leaf.verify(ca.getPublicKey());
        ca.verify(ca.getPublicKey());
        assertEquals(leaf.getIssuerX500Principal(), ca.getSubjectX500Principal());
        assertEquals(0, ca.getBasicConstraints());
        assertEquals(-1, leaf.getBasicConstraints());
        assertEquals(g.ca(), ca);
        assertEquals(g.chain(), chain);
        // Negative control: the leaf is not self-signed.
        assertThrows(java.security.SignatureException.class, () -> leaf.verify(leaf.getPublicKey()));

        assertEquals("cert.pem: OK", openssl("verify", "-CAfile", g.caFile().toString(), g.certFile().toString()));
        assertOpenSslAccepts(g, KeyType.EC_P256);
    }

    @Test
    void refusesNoNames() {
        assertThrows(IllegalArgumentException.class,
                () -> SelfSignedCertificates.selfSigned(dir, List.of(), KeyType.EC_P256, KeyEncoding.PKCS8));
    }

    /** openssl parses the certificate and the key, and the key matches the certificate. */
    private void assertOpenSslAccepts(GeneratedCertificate g, KeyType type) throws Exception {
        String text = openssl("x509", "-noout", "-text", "-in", g.certFile().toString());
        assertTrue(text.contains("Subject Alternative Name"), text);
        assertTrue(text.contains(type == KeyType.EC_P256 ? "ecdsa-with-SHA256" : "sha256WithRSAEncryption"), text);
        String certKey = openssl("x509", "-noout", "-pubkey", "-in", g.certFile().toString());
        String keyKey = openssl("pkey", "-pubout", "-in", g.keyFile().toString());
        assertEquals(certKey, keyKey);
    }

    private static String openssl(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS), "openssl hangs");
        assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + out);
        // openssl verify prints the full path; keep the file name.
        return out.replaceAll("^.*/(cert\\.pem: OK)$", "$1");
    }

    private static List<X509Certificate> readCertificates(Path file) throws Exception {
        List<X509Certificate> certs = new ArrayList<>();
        try (Reader r = Files.newBufferedReader(file); PEMParser parser = new PEMParser(r)) {
            Object o;
            while ((o = parser.readObject()) != null) {
                certs.add(new JcaX509CertificateConverter().getCertificate((X509CertificateHolder) o));
            }
        }
        return certs;
    }

    private static Object readSingle(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file); PEMParser parser = new PEMParser(r)) {
            Object o = parser.readObject();
            assertEquals(null, parser.readObject(), "one PEM object in " + file);
            return o;
        }
    }

    private static boolean signsFor(PrivateKey key, X509Certificate cert, KeyType type) throws Exception {
        String algorithm = type == KeyType.EC_P256 ? "SHA256withECDSA" : "SHA256withRSA";
        byte[] data = "mailproxy".getBytes(StandardCharsets.US_ASCII);
        Signature signer = Signature.getInstance(algorithm);
        signer.initSign(key);
        signer.update(data);
        byte[] signature = signer.sign();
        Signature verifier = Signature.getInstance(algorithm);
        verifier.initVerify(cert.getPublicKey());
        verifier.update(data);
        return verifier.verify(signature);
    }

    private static List<List<?>> sans(X509Certificate cert) throws Exception {
        Collection<List<?>> sans = cert.getSubjectAlternativeNames();
        return List.copyOf(sans);
    }
}
