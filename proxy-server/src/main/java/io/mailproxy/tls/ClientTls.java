package io.mailproxy.tls;

import io.mailproxy.config.BackendTlsSettings;
import io.mailproxy.config.CertificateFiles;
import io.mailproxy.config.ServerVerify;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLException;

/**
 * mailproxy as a TLS client of a backend's servers ({@code tls-to-server}): one context per backend,
 * shared by its sessions and its health checks, trusting what {@code verify} and {@code ca-file}
 * say, presenting the client certificate when one is set, and sending {@code sni}.
 */
public final class ClientTls {

    private final SslContext context;
    private final String sni;

    private ClientTls(SslContext context, String sni) {
        this.context = context;
        this.sni = sni;
    }

    /**
     * Reads the files of {@code settings} and builds the context.
     *
     * @throws ServerTls.TlsProblem naming the setting that cannot be used
     */
    public static ClientTls build(BackendTlsSettings settings, SslProvider provider) throws ServerTls.TlsProblem {
        SslContextBuilder builder = SslContextBuilder.forClient().sslProvider(provider)
                .protocols(List.of("TLSv1.3", "TLSv1.2"));
        if (settings.verify() == ServerVerify.NONE) {
            builder.trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
        } else {
            try {
                builder.trustManager(PemFiles.certificates(settings.caFile()).toArray(X509Certificate[]::new));
            } catch (PemFiles.PemException e) {
                throw new ServerTls.TlsProblem(settings.where().problem("ca-file", e.getMessage()));
            }
            // The name is checked when there is one to check; the chain always is.
            builder.endpointIdentificationAlgorithm(settings.sni() != null ? "HTTPS" : null);
        }
        CertificateFiles client = settings.clientCertificate();
        if (client != null) {
            try {
                List<X509Certificate> chain = PemFiles.certificates(client.cert());
                PrivateKey key = PemFiles.privateKey(client.key());
                builder.keyManager(key, chain.toArray(X509Certificate[]::new));
            } catch (PemFiles.PemException e) {
                throw new ServerTls.CertificateProblem(client, e.getMessage());
            }
        }
        try {
            return new ClientTls(builder.build(), settings.sni());
        } catch (SSLException | RuntimeException e) {
            throw new ServerTls.TlsProblem(settings.where().problem("", ServerTls.engineName(provider)
                    + " refuses these settings: " + e.getMessage()));
        }
    }

    /** A handler for one connection to {@code port}: SNI (and the name checked) when {@code sni} is set. */
    public SslHandler newHandler(ByteBufAllocator alloc, int port) {
        return sni == null ? context.newHandler(alloc) : context.newHandler(alloc, sni, port);
    }

    /** The context, for the health checks of the same servers. */
    public SslContext context() {
        return context;
    }

    /** The SNI name sent, or null. */
    public String sni() {
        return sni;
    }
}
