package io.mailproxy.config;

import com.typesafe.config.ConfigOrigin;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A certificate chain and its private key as PEM files, and the OCSP response stapled with it.
 *
 * <p>Equal when the files are: where the entry was written is not part of it, so a reload of a
 * file that only moved lines compares equal to what runs.
 *
 * @param ocsp a DER OCSP response for the certificate, re-read when it changes, or null: no stapling
 * @param path the configuration path of this entry, for error messages
 * @param origin where the entry was written
 */
public record CertificateFiles(Path cert, Path key, Path ocsp, String path, ConfigOrigin origin) {
    public CertificateFiles {
        Objects.requireNonNull(cert, "cert");
        Objects.requireNonNull(key, "key");
    }

    /** One element of a frontend's {@code tls.certificates}, over {@code mailproxy.defaults.certificate}. */
    static CertificateFiles read(ConfigReader r) {
        Path ocsp = r.optionalParsed("ocsp", s -> Path.of(ConfigReader.nonEmpty(s, "must not be empty")));
        return new CertificateFiles(file(r, "cert"), file(r, "key"), ocsp, r.path(), r.origin());
    }

    /** A certificate and key without an OCSP file, as a section other than a frontend's names them (peers' TLS). */
    static CertificateFiles pair(ConfigReader r) {
        return new CertificateFiles(file(r, "cert"), file(r, "key"), null, r.path(), r.origin());
    }

    private static Path file(ConfigReader r, String key) {
        return r.parsed(key, s -> Path.of(ConfigReader.nonEmpty(s, r.written(key) ? "must not be empty" : "missing")));
    }

    /** A problem with these files, placed at the entry. */
    public ConfigProblem problem(String message) {
        return ConfigProblem.at(origin, path, message);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CertificateFiles c && cert.equals(c.cert) && key.equals(c.key)
                && Objects.equals(ocsp, c.ocsp);
    }

    @Override
    public int hashCode() {
        return Objects.hash(cert, key, ocsp);
    }
}
