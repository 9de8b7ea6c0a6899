package io.mailproxy.config;

import java.time.Duration;
import java.util.List;
import java.util.function.Function;

/**
 * A frontend's TLS: the mode, the certificates and what is offered.
 *
 * @param reloadCertificates whether certificate files that change on disk are loaded for new
 *                           handshakes without a reload
 */
public record TlsSettings(TlsMode mode, List<CertificateFiles> certificates, List<String> protocols,
                          List<String> ciphers, Duration handshakeTimeout, boolean reloadCertificates) {
    public TlsSettings {
        certificates = List.copyOf(certificates);
        protocols = List.copyOf(protocols);
        ciphers = List.copyOf(ciphers);
        if (mode == TlsMode.IMPLICIT && certificates.isEmpty()) {
            throw new IllegalArgumentException("TLS needs at least one certificate");
        }
    }

    /** A frontend's {@code tls} section. */
    static TlsSettings read(ConfigReader r) {
        TlsMode mode = r.enumValue("mode", TlsMode.class);
        List<CertificateFiles> certificates = r.list("certificates", CertificateFiles::read);
        if (mode == TlsMode.IMPLICIT && r.isEmpty("certificates")) {
            r.problem("certificates", "TLS mode \"implicit\" needs at least one certificate");
        }
        List<String> protocols = r.strings("protocols", TlsSettings::offered);
        if (r.isEmpty("protocols")) {
            r.problem("protocols", "at least one TLS version is required");
        }
        List<String> ciphers = r.strings("ciphers", Function.identity());
        Duration handshakeTimeout = r.duration("handshake-timeout");
        return new TlsSettings(mode, certificates, protocols, ciphers, handshakeTimeout, r.bool("reload-certificates"));
    }

    private static String offered(String version) {
        if (!version.equals("TLSv1.2") && !version.equals("TLSv1.3")) {
            throw new IllegalArgumentException("\"" + version + "\" is not offered; use TLSv1.2 and/or TLSv1.3");
        }
        return version;
    }

    public boolean enabled() {
        return mode != TlsMode.NONE;
    }
}
