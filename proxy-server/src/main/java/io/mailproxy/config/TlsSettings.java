package io.mailproxy.config;

import java.time.Duration;
import java.util.List;

/** A frontend's TLS: the mode, the certificates and what is offered. */
public record TlsSettings(TlsMode mode, List<CertificateFiles> certificates, List<String> protocols,
                          List<String> ciphers, Duration handshakeTimeout) {
    public TlsSettings {
        certificates = List.copyOf(certificates);
        protocols = List.copyOf(protocols);
        ciphers = List.copyOf(ciphers);
        if (mode == TlsMode.IMPLICIT && certificates.isEmpty()) {
            throw new IllegalArgumentException("TLS needs at least one certificate");
        }
    }

    public boolean enabled() {
        return mode != TlsMode.NONE;
    }
}
