package io.mailproxy.tls;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * Reads PEM certificate chains and private keys with BouncyCastle's parser, which knows every
 * encoding admins meet: PKCS#1 ({@code RSA PRIVATE KEY}), SEC1 ({@code EC PRIVATE KEY}, with or
 * without the {@code EC PARAMETERS} block openssl writes before it) and PKCS#8 ({@code PRIVATE KEY}).
 * Keys are turned into JDK keys by the JDK's own key factories, so no security provider is added.
 */
public final class PemFiles {

    private PemFiles() {
    }

    /** A PEM file that cannot be used; the message is one sentence for the user. */
    public static final class PemException extends Exception {
        PemException(String message) {
            super(message, null, false, false);
        }
    }

    /** The certificates of {@code file} in order: the leaf first, then its chain. */
    public static List<X509Certificate> certificates(Path file) throws PemException {
        List<X509Certificate> chain = new ArrayList<>();
        JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
        for (Object o : objects(file)) {
            if (o instanceof X509CertificateHolder holder) {
                try {
                    chain.add(converter.getCertificate(holder));
                } catch (CertificateException e) {
                    throw new PemException(file + ": a certificate cannot be decoded: " + e.getMessage());
                }
            }
        }
        if (chain.isEmpty()) {
            throw new PemException(file + " holds no PEM certificate (\"-----BEGIN CERTIFICATE-----\")");
        }
        return chain;
    }

    /** The one private key in {@code file}. */
    public static PrivateKey privateKey(Path file) throws PemException {
        PrivateKeyInfo info = null;
        for (Object o : objects(file)) {
            if (o instanceof PEMEncryptedKeyPair || o instanceof PKCS8EncryptedPrivateKeyInfo) {
                throw new PemException(file + " holds an encrypted private key; give the key without a passphrase "
                        + "(openssl pkey -in encrypted.pem -out key.pem)");
            }
            PrivateKeyInfo found = o instanceof PEMKeyPair pair ? pair.getPrivateKeyInfo()
                    : o instanceof PrivateKeyInfo pki ? pki : null;
            if (found != null) {
                if (info != null) {
                    throw new PemException(file + " holds more than one private key");
                }
                info = found;
            }
        }
        if (info == null) {
            throw new PemException(file + " holds no PEM private key (\"-----BEGIN PRIVATE KEY-----\", "
                    + "\"RSA PRIVATE KEY\" or \"EC PRIVATE KEY\")");
        }
        ASN1ObjectIdentifier algorithm = info.getPrivateKeyAlgorithm().getAlgorithm();
        String name = algorithm.equals(PKCSObjectIdentifiers.rsaEncryption) ? "RSA"
                : algorithm.equals(X9ObjectIdentifiers.id_ecPublicKey) ? "EC" : null;
        if (name == null) {
            throw new PemException(file + " holds a key of algorithm " + algorithm + "; RSA and EC keys are supported");
        }
        try {
            return KeyFactory.getInstance(name).generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
        } catch (GeneralSecurityException | IOException e) {
            throw new PemException(file + ": the " + name + " private key cannot be decoded: " + e.getMessage());
        }
    }

    private static List<Object> objects(Path file) throws PemException {
        List<Object> objects = new ArrayList<>();
        // ISO-8859-1 decodes any byte: text around the PEM blocks (openssl's "Subject: O = Société"
        // lines) must not make a valid file unreadable; the blocks themselves are ASCII.
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1);
             PEMParser parser = new PEMParser(reader)) {
            Object o;
            while ((o = parser.readObject()) != null) {
                objects.add(o);
            }
        } catch (NoSuchFileException e) {
            throw new PemException(file + " does not exist");
        } catch (AccessDeniedException e) {
            throw new PemException(file + " cannot be read (permission denied)");
        } catch (IOException | RuntimeException e) {
            throw new PemException(file + " is not a readable PEM file: " + e.getMessage());
        }
        return objects;
    }
}
