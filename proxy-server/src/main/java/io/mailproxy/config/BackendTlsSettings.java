package io.mailproxy.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * TLS from mailproxy to a backend's servers ({@code tls-to-server}), as HAProxy's server options
 * {@code ssl verify ca-file sni crt}: the PROXY header goes first, in plaintext, then the TLS
 * handshake, then the session. Health checks of the backend speak the same TLS.
 *
 * @param enabled           whether sessions (and checks) speak TLS to the servers
 * @param verify            whether the servers' certificates are checked
 * @param caFile            the CAs that sign the servers' certificates (PEM), or null
 * @param sni               the name sent as SNI and, with {@code verify = required}, checked against
 *                          the certificate; null: none sent, the chain alone is checked
 * @param clientCertificate the certificate mailproxy presents to the servers, or null
 * @param where             where the section was written (not part of the value)
 */
public record BackendTlsSettings(boolean enabled, ServerVerify verify, Path caFile, String sni,
                                 CertificateFiles clientCertificate, Where where) {
    public BackendTlsSettings {
        Objects.requireNonNull(verify, "verify");
        if (enabled && verify == ServerVerify.REQUIRED && caFile == null) {
            throw new IllegalArgumentException("verify = required needs ca-file");
        }
    }

    /** A backend's {@code tls-to-server} section. */
    static BackendTlsSettings read(ConfigReader r) {
        boolean enabled = r.bool("enabled");
        ServerVerify verify = r.enumValue("verify", ServerVerify.class);
        Path caFile = r.optionalParsed("ca-file", s -> Path.of(ConfigReader.nonEmpty(s, "must not be empty")));
        if (enabled && verify == ServerVerify.REQUIRED && caFile == null) {
            r.problem("ca-file", "verify = required needs the CA certificates that sign the servers' certificates "
                    + "(a PEM file); or set verify = none to encrypt without checking who answers");
        }
        String sni = r.optionalParsed("sni", BackendTlsSettings::hostName);
        CertificateFiles client = r.object("client-certificate", c -> {
            CertificateFiles files = CertificateFiles.read(c);
            if (files.ocsp() != null) {
                c.problem("ocsp", "a client certificate has no OCSP response to staple");
            }
            return files;
        });
        return new BackendTlsSettings(enabled, verify, caFile, sni, client, Where.of(r));
    }

    private static String hostName(String s) {
        if (s.isEmpty() || !s.chars().allMatch(c -> c < 0x80 && (Character.isLetterOrDigit(c) || c == '-' || c == '.'))) {
            throw new IllegalArgumentException("\"" + s + "\" is not a host name like \"imap.example.com\"");
        }
        return s;
    }
}
