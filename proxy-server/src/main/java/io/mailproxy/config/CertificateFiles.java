package io.mailproxy.config;

import com.typesafe.config.ConfigOrigin;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A certificate chain and its private key as PEM files.
 *
 * @param path the configuration path of this entry, for error messages
 * @param origin where the entry was written
 */
public record CertificateFiles(Path cert, Path key, String path, ConfigOrigin origin) {
    public CertificateFiles {
        Objects.requireNonNull(cert, "cert");
        Objects.requireNonNull(key, "key");
    }
}
