package io.mailproxy.tls;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.IPAddress;
import org.bouncycastle.util.io.pem.PemObject;

/**
 * Generates certificates for demos and tests: a self-signed leaf, or a small CA and a leaf signed
 * by it, written as PEM.
 *
 * <p>Keys and signatures come from the JDK's own providers (no BouncyCastle provider is
 * registered); BouncyCastle only builds the certificate structure and writes PEM.
 */
public final class SelfSignedCertificates {

    /** Key algorithm of the generated certificates. */
    public enum KeyType {
        /** ECDSA on NIST P-256, signed with SHA256withECDSA. */
        EC_P256,
        /** RSA 2048, signed with SHA256withRSA. */
        RSA_2048
    }

    /** How {@code key.pem} is encoded: the forms admins meet, which {@link PemFiles} must all read. */
    public enum KeyEncoding {
        /** PKCS#8, {@code -----BEGIN PRIVATE KEY-----}. */
        PKCS8,
        /** PKCS#1 {@code BEGIN RSA PRIVATE KEY} or SEC1 {@code BEGIN EC PRIVATE KEY} (openssl's "traditional"). */
        TRADITIONAL
    }

    /** A year, as the brief for demo certificates; a client does not care about the exact length. */
    public static final Duration VALIDITY = Duration.ofDays(365);
    /** Backdating covers clock skew between the generating and the verifying machine. */
    private static final Duration BACKDATE = Duration.ofHours(1);
    private static final SecureRandom RANDOM = new SecureRandom();

    private SelfSignedCertificates() {
    }

    /** A self-signed EC P-256 certificate with a PKCS#8 key, for the given DNS names and IP addresses. */
    public static GeneratedCertificate selfSigned(Path dir, String... names) {
        return selfSigned(dir, List.of(names), KeyType.EC_P256, KeyEncoding.PKCS8);
    }

    /**
     * Writes {@code cert.pem} (one self-signed certificate) and {@code key.pem} to {@code dir}.
     *
     * @param names DNS names and IP addresses (IPv4 or IPv6) for the subjectAltName; the first is
     *        also the subject's CN
     */
    public static GeneratedCertificate selfSigned(Path dir, List<String> names, KeyType keyType,
                                                  KeyEncoding keyEncoding) {
        requireNames(names);
        KeyPair key = generateKeyPair(keyType);
        X500Principal subject = new X500Principal("CN=" + names.get(0));
        X509Certificate cert = leaf(names, key, keyType, subject, key, key.getPublic(), subject);
        Path certFile = dir.resolve("cert.pem");
        Path keyFile = dir.resolve("key.pem");
        createDirectories(dir);
        write(certFile, pemCertificates(List.of(cert)));
        writeKey(keyFile, key, keyEncoding);
        return new GeneratedCertificate(certFile, keyFile, certFile, List.of(cert), cert, key.getPrivate());
    }

    /**
     * Writes {@code ca.pem} (a new CA), {@code cert.pem} (a leaf signed by it, then the CA: the
     * order a server presents its chain in) and {@code key.pem} (the leaf's key) to {@code dir}.
     * The CA's key is not kept.
     */
    public static GeneratedCertificate signedByNewCa(Path dir, List<String> names, KeyType keyType,
                                                     KeyEncoding keyEncoding) {
        requireNames(names);
        KeyPair caKey = generateKeyPair(keyType);
        X500Principal caName = new X500Principal("CN=mailproxy test CA " + Long.toHexString(RANDOM.nextLong()));
        X509Certificate ca = ca(caKey, keyType, caName);
        KeyPair leafKey = generateKeyPair(keyType);
        X509Certificate leaf = leaf(names, leafKey, keyType, new X500Principal("CN=" + names.get(0)), caKey,
                ca.getPublicKey(), caName);
        Path caFile = dir.resolve("ca.pem");
        Path certFile = dir.resolve("cert.pem");
        Path keyFile = dir.resolve("key.pem");
        createDirectories(dir);
        write(caFile, pemCertificates(List.of(ca)));
        write(certFile, pemCertificates(List.of(leaf, ca)));
        writeKey(keyFile, leafKey, keyEncoding);
        return new GeneratedCertificate(certFile, keyFile, caFile, List.of(leaf, ca), ca, leafKey.getPrivate());
    }

    private static X509Certificate ca(KeyPair key, KeyType keyType, X500Principal name) {
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = builder(name, name, key.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(key.getPublic()));
            return sign(b, key.getPrivate(), keyType);
        } catch (CertIOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot build a CA certificate: " + e.getMessage(), e);
        }
    }

    private static X509Certificate leaf(List<String> names, KeyPair key, KeyType keyType, X500Principal subject,
                                        KeyPair signer, PublicKey issuerKey, X500Principal issuer) {
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            // RSA key exchange (TLS 1.2 RSA suites) needs keyEncipherment; ECDSA only signs.
            int usage = keyType == KeyType.RSA_2048
                    ? KeyUsage.digitalSignature | KeyUsage.keyEncipherment : KeyUsage.digitalSignature;
            X509v3CertificateBuilder b = builder(issuer, subject, key.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(usage))
                    // clientAuth too: the same generator makes client certificates for mutual-TLS tests.
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                            new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                    .addExtension(Extension.subjectAlternativeName, false, subjectAltNames(names))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(key.getPublic()))
                    .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(issuerKey));
            return sign(b, signer.getPrivate(), keyType);
        } catch (CertIOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot build a certificate for " + names + ": " + e.getMessage(), e);
        }
    }

    private static X509v3CertificateBuilder builder(X500Principal issuer, X500Principal subject,
                                                    PublicKey key) {
        Instant now = Instant.now();
        // Positive and at most 20 octets, as RFC 5280 section 4.1.2.2 requires.
        BigInteger serial = new BigInteger(159, RANDOM).add(BigInteger.ONE);
        return new JcaX509v3CertificateBuilder(issuer, serial, Date.from(now.minus(BACKDATE)),
                Date.from(now.plus(VALIDITY)), subject, key);
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey signer, KeyType keyType)
            throws GeneralSecurityException {
        String algorithm = keyType == KeyType.EC_P256 ? "SHA256withECDSA" : "SHA256withRSA";
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder(algorithm).build(signer)));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException("no " + algorithm + " signer: " + e.getMessage(), e);
        }
    }

    private static GeneralNames subjectAltNames(List<String> names) {
        List<GeneralName> list = new ArrayList<>();
        for (String name : names) {
            boolean ip = IPAddress.isValid(name);
            list.add(new GeneralName(ip ? GeneralName.iPAddress : GeneralName.dNSName, name));
        }
        return new GeneralNames(list.toArray(GeneralName[]::new));
    }

    private static KeyPair generateKeyPair(KeyType type) {
        try {
            KeyPairGenerator g;
            if (type == KeyType.EC_P256) {
                g = KeyPairGenerator.getInstance("EC");
                g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            } else {
                g = KeyPairGenerator.getInstance("RSA");
                g.initialize(2048, RANDOM);
            }
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK cannot generate a " + type + " key: " + e.getMessage(), e);
        }
    }

    /** PEM text of a key pair's private key in the requested encoding. */
    static String keyPem(KeyPair key, KeyEncoding encoding) {
        byte[] pkcs8 = key.getPrivate().getEncoded();
        if (encoding == KeyEncoding.PKCS8) {
            return pemObject(new PemObject("PRIVATE KEY", pkcs8));
        }
        PrivateKeyInfo info = PrivateKeyInfo.getInstance(pkcs8);
        try {
            ASN1ObjectIdentifier algorithm = info.getPrivateKeyAlgorithm().getAlgorithm();
            if (algorithm.equals(PKCSObjectIdentifiers.rsaEncryption)) {
                // The PKCS#8 payload of an RSA key is exactly the PKCS#1 RSAPrivateKey.
                return pemObject(new PemObject("RSA PRIVATE KEY", info.parsePrivateKey().toASN1Primitive().getEncoded()));
            }
            if (algorithm.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
                return pemObject(new PemObject("EC PRIVATE KEY", sec1(info, key).getEncoded()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot re-encode the private key", e);
        }
        throw new IllegalArgumentException("no traditional PEM encoding for " + key.getPrivate().getAlgorithm() + " keys");
    }

    /**
     * SEC1 with the curve and the public key inside: the JDK's PKCS#8 encoding leaves both out of
     * the inner structure (they are in the outer AlgorithmIdentifier), but an {@code EC PRIVATE KEY}
     * block stands alone and openssl needs the curve to load it.
     */
    private static ECPrivateKey sec1(PrivateKeyInfo info, KeyPair key) throws IOException {
        ECPrivateKey inner = ECPrivateKey.getInstance(info.parsePrivateKey());
        ASN1Encodable curve = info.getPrivateKeyAlgorithm().getParameters();
        DERBitString publicKey = new DERBitString(
                SubjectPublicKeyInfo.getInstance(key.getPublic().getEncoded()).getPublicKeyData().getBytes());
        int orderBits = ((java.security.interfaces.ECPrivateKey) key.getPrivate()).getParams().getOrder().bitLength();
        return new ECPrivateKey(orderBits, inner.getKey(), publicKey, curve);
    }

    private static String pemCertificates(List<X509Certificate> certs) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            for (X509Certificate cert : certs) {
                w.writeObject(cert);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write PEM", e);
        }
        return out.toString();
    }

    private static String pemObject(PemObject o) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(o);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write PEM", e);
        }
        return out.toString();
    }

    private static void writeKey(Path file, KeyPair key, KeyEncoding encoding) {
        write(file, keyPem(key, encoding));
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException | IOException e) {
            // Not a POSIX file system: the key stays readable as the directory allows; tests only.
        }
    }

    private static void write(Path file, String text) {
        try {
            Files.writeString(file, text, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private static void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
    }

    private static void requireNames(List<String> names) {
        if (names.isEmpty()) {
            throw new IllegalArgumentException("a certificate needs at least one DNS name or IP address");
        }
        for (String name : names) {
            if (name.isBlank() || name.contains(",") || name.contains("=")) {
                throw new IllegalArgumentException("'" + name + "' is not a DNS name or IP address");
            }
        }
    }

}
