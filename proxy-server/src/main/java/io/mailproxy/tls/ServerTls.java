package io.mailproxy.tls;

import io.mailproxy.config.Alpn;
import io.mailproxy.config.CertificateFiles;
import io.mailproxy.config.ClientAuth;
import io.mailproxy.config.ConfigProblem;
import io.mailproxy.config.Curve;
import io.mailproxy.config.TlsEngine;
import io.mailproxy.config.TlsSettings;
import io.mailproxy.mail.MailProtocol;
import io.netty.channel.ChannelHandler;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Logger;
import javax.net.ssl.SSLException;
import javax.security.auth.x500.X500Principal;

/**
 * A frontend's TLS server side: one {@link SslContext} per certificate entry, chosen per client by
 * its SNI name and, where a name has both, ECDSA or RSA by what the client can verify; the settings
 * of {@link TlsSettings} (versions, suites, curves, ALPN, client certificates, session cache,
 * shared ticket keys, OCSP stapling).
 *
 * <p>Each connection gets two handlers, in this order: {@link #newGuard()} (refuses client
 * renegotiation) and {@link #newHandler()} (reads the ClientHello, then becomes the
 * {@code SslHandler} of the chosen certificate).
 *
 * <p>While it runs, {@link #refresh()} reads changed files again: OCSP responses are swapped in
 * place; new ticket keys make a new set of contexts, which new connections use (a context's ticket
 * keys are not changed under a handshake in flight).
 */
public final class ServerTls {

    private static final Logger LOG = Logger.getLogger(ServerTls.class.getName());

    private final String frontend;
    private final TlsSettings settings;
    private final MailProtocol protocol;
    private final SslProvider provider;
    private final List<Loaded> loaded;
    private final X509Certificate[] clientCas;
    private final WatchedFile ticketFile;
    private final AtomicReference<Certificates> current = new AtomicReference<>();

    /** A certificate entry read from its files. */
    private record Loaded(CertificateFiles files, List<X509Certificate> chain, PrivateKey key, List<String> names,
                          OcspStaple staple) {
        boolean ecdsa() {
            return key.getAlgorithm().equals("EC");
        }
    }

    private ServerTls(String frontend, TlsSettings settings, MailProtocol protocol, SslProvider provider,
                      List<Loaded> loaded, X509Certificate[] clientCas) {
        this.frontend = frontend;
        this.settings = settings;
        this.protocol = protocol;
        this.provider = provider;
        this.loaded = loaded;
        this.clientCas = clientCas;
        this.ticketFile = settings.ticketKeysFile() == null ? null : new WatchedFile(settings.ticketKeysFile());
    }

    /** A TLS setting that cannot be used, placed where it was written. */
    public static class TlsProblem extends Exception {
        private final transient ConfigProblem problem;

        TlsProblem(ConfigProblem problem) {
            super(problem.message(), null, false, false);
            this.problem = problem;
        }

        /** The problem in the form every configuration error is printed in. */
        public ConfigProblem problem() {
            return problem;
        }
    }

    /** A certificate entry that cannot be used, with the entry it came from. */
    public static final class CertificateProblem extends TlsProblem {
        private final transient CertificateFiles files;

        CertificateProblem(CertificateFiles files, String message) {
            super(files.problem(message));
            this.files = files;
        }

        public CertificateFiles files() {
            return files;
        }
    }

    /** The provider an engine setting stands for on this machine. */
    public static SslProvider provider(TlsEngine engine) throws SSLException {
        return switch (engine) {
            case JDK -> SslProvider.JDK;
            case OPENSSL -> {
                if (!OpenSsl.isAvailable()) {
                    throw new SSLException("tls-engine = openssl, but netty-tcnative cannot be loaded: "
                            + OpenSsl.unavailabilityCause());
                }
                yield SslProvider.OPENSSL;
            }
            case AUTO -> OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        };
    }

    /** The engine's name in messages. */
    static String engineName(SslProvider provider) {
        return provider == SslProvider.JDK ? "the JDK's TLS engine" : "BoringSSL";
    }

    /**
     * Loads the files of {@code settings} (certificates, CAs, ticket keys, OCSP responses) and
     * builds the contexts.
     *
     * @param frontend the frontend's name, for the log
     * @throws TlsProblem naming the first setting or entry that cannot be used
     */
    public static ServerTls build(String frontend, TlsSettings settings, MailProtocol protocol, SslProvider provider)
            throws TlsProblem {
        checkEngine(settings, provider);
        List<Loaded> loaded = new ArrayList<>();
        for (CertificateFiles files : settings.certificates()) {
            loaded.add(load(files, provider));
        }
        if (loaded.isEmpty()) {
            throw new IllegalArgumentException("no certificate");
        }
        X509Certificate[] clientCas = null;
        if (settings.clientCaFile() != null) {
            try {
                clientCas = PemFiles.certificates(settings.clientCaFile()).toArray(X509Certificate[]::new);
            } catch (PemFiles.PemException e) {
                throw new TlsProblem(settings.where().problem("client-ca-file", e.getMessage()));
            }
        }
        ServerTls tls = new ServerTls(frontend, settings, protocol, provider, List.copyOf(loaded), clientCas);
        TicketKeys keys = null;
        if (tls.ticketFile != null) {
            tls.ticketFile.read();
            try {
                keys = TicketKeys.read(settings.ticketKeysFile());
            } catch (TicketKeys.TicketKeysException e) {
                throw new TlsProblem(settings.where().problem("ticket-keys-file", e.getMessage()));
            }
        }
        tls.current.set(tls.contexts(keys));
        return tls;
    }

    /** What only BoringSSL or only the JDK's engine can do, refused on the other. */
    private static void checkEngine(TlsSettings s, SslProvider provider) throws TlsProblem {
        if (provider != SslProvider.JDK) {
            Set<String> boring = Set.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");
            if (!new HashSet<>(s.cipherSuites()).equals(boring)) {
                throw new TlsProblem(s.where().problem("cipher-suites", "BoringSSL does not let TLS 1.3 cipher suites "
                        + "be chosen: leave the default " + boring + ", or use tls-engine = jdk"));
            }
            return;
        }
        if (s.ticketKeysFile() != null) {
            throw new TlsProblem(s.where().problem("ticket-keys-file", "the JDK's TLS engine makes its own ticket keys "
                    + "and takes none from a file: use BoringSSL (tls-engine = openssl or auto with netty-tcnative)"));
        }
        for (CertificateFiles files : s.certificates()) {
            if (files.ocsp() != null) {
                throw new CertificateProblem(files, "the JDK's TLS engine cannot staple an OCSP response from a file: "
                        + "use BoringSSL (tls-engine = openssl or auto with netty-tcnative)");
            }
        }
    }

    private static Loaded load(CertificateFiles files, SslProvider provider) throws CertificateProblem {
        List<X509Certificate> chain;
        PrivateKey key;
        try {
            chain = PemFiles.certificates(files.cert());
            key = PemFiles.privateKey(files.key());
        } catch (PemFiles.PemException e) {
            throw new CertificateProblem(files, e.getMessage());
        }
        if (!matches(key, chain.get(0))) {
            throw new CertificateProblem(files, "the key in " + files.key() + " does not belong to the certificate in "
                    + files.cert() + " (" + chain.get(0).getSubjectX500Principal().getName() + ")");
        }
        OcspStaple staple = null;
        if (files.ocsp() != null) {
            try {
                staple = OcspStaple.load(files.ocsp(), chain);
            } catch (OcspStaple.OcspException e) {
                throw new CertificateProblem(files, e.getMessage());
            }
        }
        return new Loaded(files, chain, key, names(files, chain.get(0)), staple);
    }

    /** One context per entry, all with the same ticket keys. */
    private Certificates contexts(TicketKeys keys) throws TlsProblem {
        List<Certificates.Entry> entries = new ArrayList<>();
        List<List<String>> names = new ArrayList<>();
        for (Loaded l : loaded) {
            SslContext context = context(l);
            if (keys != null) {
                ((OpenSslSessionContext) context.sessionContext()).setTicketKeys(keys.keys());
            }
            entries.add(new Certificates.Entry(context, l.ecdsa(), l.staple()));
            names.add(l.names());
        }
        return Certificates.of(entries, names);
    }

    private SslContext context(Loaded l) throws TlsProblem {
        List<String> suites = new ArrayList<>(settings.cipherSuites());
        if (settings.minVersion().equals("TLSv1.2")) {
            suites.addAll(settings.ciphers());
        }
        SslContext context;
        try {
            SslContextBuilder builder = SslContextBuilder.forServer(l.key(), l.chain().toArray(X509Certificate[]::new))
                    .sslProvider(provider)
                    .protocols(settings.protocols())
                    .ciphers(suites, SupportedCipherSuiteFilter.INSTANCE)
                    .sessionCacheSize(settings.sessionCacheSize())
                    .sessionTimeout(settings.sessionTimeout().toSeconds());
            if (settings.alpn() == Alpn.PROTOCOL) {
                // The protocol name is accepted when a client offers it, and then sent on as the
                // ALPN TLV; clients that offer nothing (most mail clients) negotiate nothing.
                builder.applicationProtocolConfig(new ApplicationProtocolConfig(
                        ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        protocol.configName()));
            }
            if (settings.clientAuth() != ClientAuth.NONE) {
                builder.trustManager(clientCas).clientAuth(settings.clientAuth() == ClientAuth.REQUIRED
                        ? io.netty.handler.ssl.ClientAuth.REQUIRE : io.netty.handler.ssl.ClientAuth.OPTIONAL);
            }
            if (provider != SslProvider.JDK) {
                builder.option(OpenSslContextOption.GROUPS,
                        settings.curves().stream().map(Curve::configName).toArray(String[]::new));
                builder.enableOcsp(l.staple() != null);
            }
            context = builder.build();
        } catch (SSLException | RuntimeException e) {
            throw new CertificateProblem(l.files(), engineName(provider) + " refuses " + l.files().cert() + " with these "
                    + "settings: " + e.getMessage());
        }
        Set<String> missing = new LinkedHashSet<>(settings.minVersion().equals("TLSv1.2") ? settings.ciphers() : List.of());
        if (provider == SslProvider.JDK) {
            missing.addAll(settings.cipherSuites());
        }
        missing.removeAll(context.cipherSuites());
        if (!missing.isEmpty()) {
            boolean tls13 = TlsSettings.TLS13_SUITES.containsAll(missing);
            throw new TlsProblem(settings.where().problem(tls13 ? "cipher-suites" : "ciphers",
                    engineName(provider) + " does not support " + String.join(", ", missing)));
        }
        return context;
    }

    /**
     * The JDK reads its key-exchange groups once per process, from a system property: set it from
     * {@code curves} before the first handshake. Null when that is done or not needed, else a
     * sentence saying why it cannot be (frontends that disagree, or a list set before).
     */
    public static String useJdkCurves(List<List<Curve>> perFrontend) {
        Set<List<Curve>> lists = new LinkedHashSet<>(perFrontend);
        if (lists.isEmpty()) {
            return null;
        }
        if (lists.size() > 1) {
            return "with the JDK's TLS engine every TLS frontend must have the same curves (the JDK takes one "
                    + "list for the process); found " + lists;
        }
        String groups = String.join(",", lists.iterator().next().stream().map(Curve::jdkName).toList());
        String before = System.getProperty("jdk.tls.namedGroups");
        if (before != null && !before.equals(groups)) {
            return "the JVM was started with -Djdk.tls.namedGroups=" + before + ", which differs from curves ("
                    + groups + ")";
        }
        System.setProperty("jdk.tls.namedGroups", groups);
        return null;
    }

    /** A new guard for one client connection: goes before {@link #newHandler()}. */
    public ChannelHandler newGuard() {
        return new RenegotiationGuard();
    }

    /** A new handler for one client connection: chooses the certificate, then becomes the SslHandler. */
    public ChannelHandler newHandler() {
        // No timeout of the handlers' own: the session bounds the whole handshake from the accept
        // (tls.handshake-timeout), so that one clock decides and logs it as tls-timeout.
        return new CertificateSelector(current.get(), 0);
    }

    public SslProvider provider() {
        return provider;
    }

    /**
     * Reads the files that changed since they were last read: OCSP responses, the ticket key file.
     * A file that cannot be used is logged and what was in use stays. Safe to call from any thread.
     */
    public synchronized void refresh() {
        for (Loaded l : loaded) {
            if (l.staple() != null) {
                l.staple().refresh();
            }
        }
        if (ticketFile == null || !ticketFile.changed()) {
            return;
        }
        ticketFile.read();
        try {
            TicketKeys keys = TicketKeys.read(ticketFile.path());
            current.set(contexts(keys));
            LOG.info(() -> "frontend " + frontend + ": ticket keys reloaded from " + ticketFile.path()
                    + ", new tickets encrypted with key " + keys.encryptingKeyName());
        } catch (TicketKeys.TicketKeysException e) {
            LOG.warning(() -> "frontend " + frontend + ": ticket keys not reloaded, the previous ones stay: "
                    + e.getMessage());
        } catch (TlsProblem e) {
            LOG.warning(() -> "frontend " + frontend + ": ticket keys not reloaded: " + e.getMessage());
        }
    }

    /** Proves the pair by signing with the key and verifying with the certificate. */
    private static boolean matches(PrivateKey key, X509Certificate certificate) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> null;
        };
        if (algorithm == null || !algorithm.endsWith(certificate.getPublicKey().getAlgorithm().replace("EC", "ECDSA"))) {
            return false;
        }
        try {
            byte[] probe = "mailproxy key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /**
     * The DNS names {@code leaf} (the first certificate of {@code files}) is for: its
     * subjectAltName DNS entries, else its CN.
     */
    static List<String> names(CertificateFiles files, X509Certificate leaf) throws CertificateProblem {
        List<String> names = new ArrayList<>();
        try {
            Collection<List<?>> alternatives = leaf.getSubjectAlternativeNames();
            if (alternatives != null) {
                for (List<?> entry : alternatives) {
                    if (entry.size() >= 2 && Integer.valueOf(2).equals(entry.get(0))) {
                        names.add(((String) entry.get(1)).toLowerCase(Locale.ROOT));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            throw new CertificateProblem(files, files.cert() + ": subjectAltName cannot be read: " + e.getMessage());
        }
        if (names.isEmpty()) {
            String dn = leaf.getSubjectX500Principal().getName(X500Principal.RFC2253);
            for (String part : dn.split(",")) {
                if (part.startsWith("CN=")) {
                    names.add(part.substring(3).toLowerCase(Locale.ROOT));
                }
            }
        }
        return names;
    }
}
