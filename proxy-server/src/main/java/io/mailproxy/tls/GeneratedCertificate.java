package io.mailproxy.tls;

import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * PEM files written by {@link SelfSignedCertificates}, and what is in them.
 *
 * @param certFile {@code cert.pem}: the leaf, followed by the CA when the leaf is CA-signed
 * @param keyFile {@code key.pem}: the leaf's private key, mode 0600 where the file system allows
 * @param caFile the certificate a client must trust: {@code ca.pem}, or {@code cert.pem} itself
 *        for a self-signed certificate
 * @param chain the certificates of {@code cert.pem}, leaf first
 * @param ca the trust anchor in {@code caFile} (the leaf itself when self-signed)
 * @param privateKey the leaf's private key
 */
public record GeneratedCertificate(Path certFile, Path keyFile, Path caFile, List<X509Certificate> chain,
                                   X509Certificate ca, PrivateKey privateKey) {

    public GeneratedCertificate {
        Objects.requireNonNull(certFile, "certFile");
        Objects.requireNonNull(keyFile, "keyFile");
        Objects.requireNonNull(caFile, "caFile");
        Objects.requireNonNull(ca, "ca");
        Objects.requireNonNull(privateKey, "privateKey");
        chain = List.copyOf(chain);
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("chain must hold at least the leaf certificate");
        }
    }

    /** The leaf (server or client) certificate. */
    public X509Certificate certificate() {
        return chain.get(0);
    }
}
