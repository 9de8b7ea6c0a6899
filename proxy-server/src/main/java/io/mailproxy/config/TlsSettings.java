package io.mailproxy.config;

import io.netty.handler.ssl.CipherSuiteConverter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A frontend's TLS: the mode, the certificates and what is offered.
 *
 * @param minVersion        the oldest version accepted, {@code TLSv1.2} or {@code TLSv1.3} (HAProxy's {@code ssl-min-ver})
 * @param ciphers           TLS 1.2 cipher suites, IANA names, in order of preference
 * @param cipherSuites      TLS 1.3 cipher suites, IANA names
 * @param curves            key-exchange groups, in order of preference
 * @param clientCaFile      the CAs whose client certificates are accepted, or null ({@code client-auth = none})
 * @param sessionCacheSize  TLS sessions kept for resumption by session id, per certificate
 * @param sessionTimeout    how long a session (and a ticket) may be resumed
 * @param ticketKeysFile    HAProxy's {@code tls-ticket-keys} file, or null: each process makes its own keys
 * @param fileCheckInterval how often the ticket key file and the OCSP files are looked at for changes
 * @param startTls          what mailproxy says before TLS (STARTTLS modes)
 * @param reloadCertificates whether certificate files that change on disk are loaded for new
 *                          handshakes without a reload
 * @param where             where the section was written (not part of the value)
 */
public record TlsSettings(TlsMode mode, List<CertificateFiles> certificates, String minVersion, List<String> ciphers,
                          List<String> cipherSuites, List<Curve> curves, Alpn alpn, Duration handshakeTimeout,
                          ClientAuth clientAuth, Path clientCaFile, int sessionCacheSize, Duration sessionTimeout,
                          Path ticketKeysFile, Duration fileCheckInterval, StartTlsSettings startTls,
                          boolean reloadCertificates, Where where) {

    /** The versions offered; older ones (SSLv3, TLS 1.0, 1.1) never are. */
    public static final List<String> VERSIONS = List.of("TLSv1.3", "TLSv1.2");

    /** Every TLS 1.3 cipher suite (RFC 8446 B.4); these go in {@code cipher-suites}, the others in {@code ciphers}. */
    public static final Set<String> TLS13_SUITES = Set.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256");

    public TlsSettings {
        certificates = List.copyOf(certificates);
        ciphers = List.copyOf(ciphers);
        cipherSuites = List.copyOf(cipherSuites);
        curves = List.copyOf(curves);
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(clientAuth, "clientAuth");
        Objects.requireNonNull(startTls, "startTls");
        if (mode != TlsMode.NONE && certificates.isEmpty()) {
            throw new IllegalArgumentException("TLS needs at least one certificate");
        }
        if (!VERSIONS.contains(minVersion)) {
            throw new IllegalArgumentException("min-version " + minVersion + " is not one of " + VERSIONS);
        }
        if (clientAuth != ClientAuth.NONE && clientCaFile == null) {
            throw new IllegalArgumentException("client-auth needs client-ca-file");
        }
    }

    /** A frontend's {@code tls} section. */
    static TlsSettings read(ConfigReader r) {
        TlsMode mode = r.enumValue("mode", TlsMode.class);
        List<CertificateFiles> certificates = r.list("certificates", CertificateFiles::read);
        if (mode != TlsMode.NONE && r.isEmpty("certificates")) {
            r.problem("certificates", "TLS mode \"" + mode.name().toLowerCase().replace('_', '-')
                    + "\" needs at least one certificate");
        }
        String minVersion = r.parsed("min-version", TlsSettings::version);
        List<String> ciphers = r.strings("ciphers", TlsSettings::tls12Suite);
        if (minVersion.equals("TLSv1.2") && r.isEmpty("ciphers")) {
            r.problem("ciphers", "at least one TLS 1.2 cipher suite is needed while min-version is TLSv1.2");
        }
        List<String> cipherSuites = r.strings("cipher-suites", TlsSettings::tls13Suite);
        if (r.isEmpty("cipher-suites")) {
            r.problem("cipher-suites", "at least one TLS 1.3 cipher suite is needed");
        }
        List<Curve> curves = r.strings("curves", Curve::of);
        if (r.isEmpty("curves")) {
            r.problem("curves", "at least one curve is needed for ECDHE");
        }
        Alpn alpn = r.enumValue("alpn", Alpn.class);
        Duration handshakeTimeout = r.duration("handshake-timeout");
        ClientAuth clientAuth = r.enumValue("client-auth", ClientAuth.class);
        Path clientCa = r.optionalParsed("client-ca-file", s -> Path.of(ConfigReader.nonEmpty(s, "must not be empty")));
        if (clientAuth != ClientAuth.NONE && clientCa == null) {
            r.problem("client-ca-file", "client-auth = " + clientAuth.name().toLowerCase()
                    + " needs the CA certificates that sign the clients' certificates (a PEM file)");
        }
        int cacheSize = r.intIn("session-cache-size", 1, 10_000_000);
        Duration sessionTimeout = r.duration("session-timeout");
        Path ticketKeys = r.optionalParsed("ticket-keys-file", s -> Path.of(ConfigReader.nonEmpty(s, "must not be empty")));
        Duration fileCheck = r.duration("file-check-interval");
        StartTlsSettings startTls = r.object("starttls", StartTlsSettings::read);
        return new TlsSettings(mode, certificates, minVersion, ciphers, cipherSuites, curves, alpn, handshakeTimeout,
                clientAuth, clientCa, cacheSize, sessionTimeout, ticketKeys, fileCheck, startTls,
                r.bool("reload-certificates"), Where.of(r));
    }

    private static String version(String version) {
        String v = version.trim();
        if (!VERSIONS.contains(v)) {
            throw new IllegalArgumentException("\"" + version + "\" is not offered; use TLSv1.2 or TLSv1.3");
        }
        return v;
    }

    /** A TLS 1.2 suite by its IANA name, or by OpenSSL's as HAProxy's {@code ciphers} takes them. */
    private static String tls12Suite(String name) {
        String n = name.trim();
        String iana = n.startsWith("TLS_") ? n : CipherSuiteConverter.toJava(n, "TLS");
        if (iana == null || !iana.startsWith("TLS_")) {
            throw new IllegalArgumentException("\"" + name + "\" is not a cipher suite name such as "
                    + "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (or OpenSSL's ECDHE-RSA-AES128-GCM-SHA256)");
        }
        if (TLS13_SUITES.contains(iana)) {
            throw new IllegalArgumentException(iana + " is a TLS 1.3 cipher suite: it goes in cipher-suites");
        }
        return iana;
    }

    private static String tls13Suite(String name) {
        String n = name.trim();
        if (!TLS13_SUITES.contains(n)) {
            throw new IllegalArgumentException("\"" + name + "\" is not a TLS 1.3 cipher suite (one of "
                    + String.join(", ", new ArrayList<>(new java.util.TreeSet<>(TLS13_SUITES))) + ")");
        }
        return n;
    }

    /** Whether the frontend speaks TLS at all (implicit or after STARTTLS): it needs certificates. */
    public boolean enabled() {
        return mode != TlsMode.NONE;
    }

    /** TLS from the first byte. */
    public boolean implicit() {
        return mode == TlsMode.IMPLICIT;
    }

    /** The versions offered, newest first. */
    public List<String> protocols() {
        return VERSIONS.subList(0, VERSIONS.indexOf(minVersion) + 1);
    }
}
