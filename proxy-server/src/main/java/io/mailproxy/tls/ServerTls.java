package io.mailproxy.tls;

import io.mailproxy.config.CertificateFiles;
import io.mailproxy.config.TlsEngine;
import io.mailproxy.config.TlsSettings;
import io.mailproxy.mail.MailProtocol;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.util.DomainWildcardMappingBuilder;
import io.netty.util.Mapping;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLException;
import javax.security.auth.x500.X500Principal;

/**
 * A frontend's TLS server side: one {@link SslContext} per certificate, chosen by the client's SNI
 * (the first certificate when no name matches or none was sent).
 *
 * <p>Every handler comes from {@link #newHandler()}: an {@link SniHandler} that reads the
 * ClientHello, records the SNI name (later sent to the backend as the PROXY AUTHORITY TLV) and
 * replaces itself with the {@link SslHandler}.
 */
public final class ServerTls {

    /** The largest ClientHello accepted; a larger one is a broken or hostile client. */
    private static final int MAX_CLIENT_HELLO = 16 * 1024;

    private final Mapping<String, SslContext> mapping;
    private final SslProvider provider;

    private ServerTls(Mapping<String, SslContext> mapping, SslProvider provider) {
        this.mapping = mapping;
        this.provider = provider;
    }

    /** A certificate entry that cannot be used, with the entry it came from. */
    public static final class CertificateProblem extends Exception {
        private final CertificateFiles files;

        CertificateProblem(CertificateFiles files, String message) {
            super(message, null, false, false);
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

    /**
     * Loads the certificates of {@code settings} and builds the contexts.
     *
     * @throws CertificateProblem naming the first entry that cannot be used
     */
    public static ServerTls build(TlsSettings settings, MailProtocol protocol, SslProvider provider)
            throws CertificateProblem {
        DomainWildcardMappingBuilder<SslContext> builder = null;
        for (CertificateFiles files : settings.certificates()) {
            List<X509Certificate> chain;
            PrivateKey key;
            try {
                chain = PemFiles.certificates(files.cert());
                key = PemFiles.privateKey(files.key());
            } catch (PemFiles.PemException e) {
                throw new CertificateProblem(files, e.getMessage());
            }
            SslContext context = context(files, chain, key, settings, protocol, provider);
            if (builder == null) {
                builder = new DomainWildcardMappingBuilder<>(context);
            }
            for (String name : names(files, chain.get(0))) {
                builder.add(name, context);
            }
        }
        if (builder == null) {
            throw new IllegalArgumentException("no certificate");
        }
        return new ServerTls(builder.build(), provider);
    }

    /** A new handler for one client connection. */
    public SniHandler newHandler() {
        // No timeout of the handlers' own: the session bounds the whole handshake from the accept
        // (tls.handshake-timeout), so that one clock decides and logs it as tls-timeout.
        return new SniHandler(mapping, MAX_CLIENT_HELLO, 0) {
            @Override
            protected SslHandler newSslHandler(SslContext context, ByteBufAllocator allocator) {
                SslHandler handler = super.newSslHandler(context, allocator);
                handler.setHandshakeTimeoutMillis(0);
                return handler;
            }
        };
    }

    public SslProvider provider() {
        return provider;
    }

    private static SslContext context(CertificateFiles files, List<X509Certificate> chain, PrivateKey key,
                                      TlsSettings settings, MailProtocol protocol, SslProvider provider)
            throws CertificateProblem {
        if (!matches(key, chain.get(0))) {
            throw new CertificateProblem(files, "the key in " + files.key() + " does not belong to the certificate in "
                    + files.cert() + " (" + chain.get(0).getSubjectX500Principal().getName() + ")");
        }
        try {
            SslContextBuilder builder = SslContextBuilder.forServer(key, chain.toArray(X509Certificate[]::new))
                    .sslProvider(provider)
                    .protocols(settings.protocols())
                    .ciphers(settings.ciphers().isEmpty() ? null : settings.ciphers(), SupportedCipherSuiteFilter.INSTANCE)
                    // The protocol name is accepted when a client offers it, and then sent on as the
                    // ALPN TLV; clients that offer nothing (most mail clients) negotiate nothing.
                    .applicationProtocolConfig(new ApplicationProtocolConfig(
                            ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            protocol.configName()));
            return builder.build();
        } catch (SSLException | RuntimeException e) {
            throw new CertificateProblem(files, "the TLS engine refuses " + files.cert() + ": " + e.getMessage());
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
