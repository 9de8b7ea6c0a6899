package io.mailproxy.backend;

import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Map;

/**
 * A certificate's algorithms in the names HAProxy puts in the SSL TLV's SIG_ALG and KEY_ALG
 * sub-TLVs (OpenSSL's short names; {@code RSA2048}, {@code EC256}), so a server sees the same text
 * behind mailproxy as behind HAProxy.
 */
final class CertificateNames {

    /** OpenSSL short names by OID, for the signature algorithms certificates use today. */
    private static final Map<String, String> SIGNATURE_NAMES = Map.ofEntries(
            Map.entry("1.2.840.113549.1.1.5", "RSA-SHA1"),
            Map.entry("1.2.840.113549.1.1.10", "RSASSA-PSS"),
            Map.entry("1.2.840.113549.1.1.11", "RSA-SHA256"),
            Map.entry("1.2.840.113549.1.1.12", "RSA-SHA384"),
            Map.entry("1.2.840.113549.1.1.13", "RSA-SHA512"),
            Map.entry("1.2.840.10045.4.1", "ecdsa-with-SHA1"),
            Map.entry("1.2.840.10045.4.3.2", "ecdsa-with-SHA256"),
            Map.entry("1.2.840.10045.4.3.3", "ecdsa-with-SHA384"),
            Map.entry("1.2.840.10045.4.3.4", "ecdsa-with-SHA512"),
            Map.entry("1.3.101.112", "ED25519"),
            Map.entry("1.3.101.113", "ED448"));

    private CertificateNames() {
    }

    /** E.g. {@code RSA-SHA256}; the JDK's name for an algorithm not in the table. */
    static String signatureAlgorithm(X509Certificate certificate) {
        return SIGNATURE_NAMES.getOrDefault(certificate.getSigAlgOID(), certificate.getSigAlgName());
    }

    /** E.g. {@code RSA2048}, {@code EC256}; the JDK's key algorithm name for other keys. */
    static String keyAlgorithm(X509Certificate certificate) {
        PublicKey key = certificate.getPublicKey();
        if (key instanceof RSAPublicKey rsa) {
            return "RSA" + rsa.getModulus().bitLength();
        }
        if (key instanceof ECPublicKey ec) {
            return "EC" + ec.getParams().getCurve().getField().getFieldSize();
        }
        return key.getAlgorithm();
    }
}
