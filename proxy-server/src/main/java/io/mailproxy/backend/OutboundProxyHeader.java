package io.mailproxy.backend;

import io.mailproxy.config.ProxyV2Option;
import io.mailproxy.config.SendProxy;
import io.mailproxy.proxyprotocol.ProxyHeader;
import io.mailproxy.proxyprotocol.ProxyHeaderEncoder;
import io.mailproxy.proxyprotocol.SslTlv;
import io.mailproxy.proxyprotocol.Tlv;
import io.mailproxy.tls.DnsNames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Set;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * The PROXY header a server receives before a session's first byte, built as HAProxy's
 * {@code send-proxy*} options build it.
 *
 * <p>What the client's TLS looked like travels in the v2 SSL TLV: the PP2_CLIENT_SSL flag (which
 * lets Dovecot treat the plaintext hop as secured), verify, the VERSION and CIPHER sub-TLVs, and with
 * {@code v2-ssl-cn} the client certificate's CN.
 *
 * <p>Only what the Dovecot behind accepts: AUTHORITY carries the client's SNI name when it is a DNS
 * name ({@link #isDnsName}), since Dovecot 2.4 drops the whole connection for any other value; ALPN
 * only with {@link ProxyV2Option#ALPN} and only when the negotiated protocol is the frontend's own,
 * since Dovecot drops a session whose ALPN is anything else, and Debian's 2.4.1 drops every one.
 */
public final class OutboundProxyHeader {

    /** The spec's "verify" for a client that presented no verified certificate: any non-zero value. */
    private static final long NOT_VERIFIED = 1;

    private OutboundProxyHeader() {
    }

    /**
     * What a header says about the client's side of a session.
     *
     * @param address the original client (the socket peer or what a trusted PROXY header said)
     * @param destination the address the client connected to
     * @param tls the client's TLS handler once the handshake is done, or null for plaintext
     * @param sniHostName the SNI name the client sent, or null
     * @param forwardedSsl for a plaintext client: an SSL TLV received from a trusted balancer that
     *     terminated TLS, sent on unchanged where this header carries one; else null
     * @param protocolName the frontend's protocol name ({@code imap}, {@code pop3}, {@code lmtp})
     * @param uniqueId the session's id for {@link ProxyV2Option#UNIQUE_ID}, or null
     */
    public record ClientSide(InetSocketAddress address, InetSocketAddress destination, SslHandler tls,
                             String sniHostName, SslTlv forwardedSsl, String protocolName, String uniqueId) {
    }

    /**
     * Encodes the header, or returns null for {@link SendProxy#NONE}.
     *
     * @param options HAProxy's {@code proxy-v2-options}; ignored by v1
     */
    public static ByteBuf encode(SendProxy mode, Set<ProxyV2Option> options, ClientSide side, ByteBufAllocator alloc) {
        if (mode == SendProxy.NONE) {
            return null;
        }
        ProxyHeader header = ProxyHeader.proxy(side.address(), side.destination());
        if (mode == SendProxy.V1) {
            return ProxyHeaderEncoder.encodeV1(header, alloc);
        }
        SslHandler tls = side.tls();
        if (tls != null && options.contains(ProxyV2Option.ALPN)) {
            String alpn = tls.applicationProtocol();
            if (side.protocolName().equals(alpn)) {
                header = header.withTlv(Tlv.alpn(alpn));
            }
        }
        if (isDnsName(side.sniHostName())) {
            header = header.withTlv(Tlv.authority(side.sniHostName()));
        }
        if (options.contains(ProxyV2Option.UNIQUE_ID) && side.uniqueId() != null) {
            header = header.withTlv(Tlv.uniqueId(side.uniqueId().getBytes(StandardCharsets.US_ASCII)));
        }
        boolean sslTlv = mode.sendsSslTlv() || options.stream().anyMatch(ProxyV2Option::impliesSsl);
        if (sslTlv && tls != null) {
            header = header.withTlv(ssl(tls.engine().getSession(), mode == SendProxy.V2_SSL_CN,
                    options.contains(ProxyV2Option.CERT_SIG), options.contains(ProxyV2Option.CERT_KEY)));
        } else if (sslTlv && side.forwardedSsl() != null) {
            header = header.withTlv(side.forwardedSsl());
        }
        return ProxyHeaderEncoder.encodeV2(header, alloc, options.contains(ProxyV2Option.CRC32C));
    }

    /** Whether {@code name} may go on as AUTHORITY: a DNS name ({@link DnsNames#isDnsName}). */
    static boolean isDnsName(String name) {
        return DnsNames.isDnsName(name);
    }

    private static SslTlv ssl(SSLSession session, boolean withCommonName, boolean withSignature, boolean withKey) {
        SslTlv.Builder b = SslTlv.builder()
                .clientSsl(true)
                .version(session.getProtocol())
                .cipher(session.getCipherSuite());
        X509Certificate peer = peerCertificate(session);
        if (peer != null) {
            // A certificate that reached the session was verified by the engine's trust manager.
            b.clientCertConn(true).clientCertSess(true).verify(0);
            String cn = withCommonName ? commonName(peer) : null;
            if (cn != null) {
                b.commonName(cn);
            }
        } else {
            b.verify(NOT_VERIFIED);
        }
        // As HAProxy (SSL_get_certificate): cert-sig and cert-key describe the certificate this
        // side presented, not the client's, so they are there on every TLS session.
        X509Certificate own = withSignature || withKey ? localCertificate(session) : null;
        if (own != null && withSignature) {
            b.signatureAlgorithm(CertificateNames.signatureAlgorithm(own));
        }
        if (own != null && withKey) {
            b.keyAlgorithm(CertificateNames.keyAlgorithm(own));
        }
        return b.build();
    }

    private static X509Certificate localCertificate(SSLSession session) {
        Certificate[] chain = session.getLocalCertificates();
        return chain != null && chain.length > 0 && chain[0] instanceof X509Certificate x ? x : null;
    }

    private static X509Certificate peerCertificate(SSLSession session) {
        try {
            Certificate[] chain = session.getPeerCertificates();
            return chain.length > 0 && chain[0] instanceof X509Certificate x ? x : null;
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }

    private static String commonName(X509Certificate certificate) {
        try {
            for (Rdn rdn : new LdapName(certificate.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return String.valueOf(rdn.getValue());
                }
            }
        } catch (InvalidNameException e) {
            return null;
        }
        return null;
    }
}
