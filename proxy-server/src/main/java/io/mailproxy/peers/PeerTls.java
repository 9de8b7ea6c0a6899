package io.mailproxy.peers;

import io.mailproxy.config.ConfigProblem;
import io.mailproxy.config.ConfigurationException;
import io.mailproxy.config.PeersSettings;
import io.mailproxy.tls.PemFiles;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLException;

/**
 * TLS between peers: both ends present their certificate and require the other's to chain to the
 * configured CA (HAProxy's {@code ssl crt ... ca-file ... verify required} on both the peers'
 * {@code bind} and {@code server} lines). Names are not checked, as HAProxy does not without
 * {@code verifyhost}: the CA is the peers' own.
 */
record PeerTls(SslContext server, SslContext client) {

    static PeerTls of(PeersSettings.Tls tls, SslProvider provider) throws ConfigurationException {
        if (tls == null) {
            return null;
        }
        try {
            List<X509Certificate> chain = PemFiles.certificates(tls.certificate().cert());
            PrivateKey key = PemFiles.privateKey(tls.certificate().key());
            List<X509Certificate> ca = PemFiles.certificates(tls.ca());
            X509Certificate[] chainArray = chain.toArray(X509Certificate[]::new);
            X509Certificate[] caArray = ca.toArray(X509Certificate[]::new);
            SslContext server = SslContextBuilder.forServer(key, chainArray).sslProvider(provider)
                    .trustManager(caArray).clientAuth(ClientAuth.REQUIRE).build();
            // No host name check (Netty 4.2 checks one by default for clients): the peers' own CA decides.
            SslContext client = SslContextBuilder.forClient().sslProvider(provider)
                    .keyManager(key, chainArray).trustManager(caArray).endpointIdentificationAlgorithm(null).build();
            return new PeerTls(server, client);
        } catch (PemFiles.PemException | SSLException | RuntimeException e) {
            throw new ConfigurationException(List.of(tls.certificate().problem("peers TLS: " + e.getMessage())));
        }
    }
}
