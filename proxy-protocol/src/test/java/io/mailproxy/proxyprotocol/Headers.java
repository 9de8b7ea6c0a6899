package io.mailproxy.proxyprotocol;

import io.mailproxy.testing.Hex;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/** The header values matching {@link Vectors}. */
final class Headers {

    private Headers() {
    }

    static InetSocketAddress addr(String literal, int port) {
        try {
            return new InetSocketAddress(InetAddress.getByName(literal), port);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    static InetSocketAddress mapped(String v4, int port) {
        try {
            return new InetSocketAddress(ProxyHeader.toInet6(InetAddress.getByName(v4)), port);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    static final InetSocketAddress SRC4 = addr("192.168.0.1", 56324);
    static final InetSocketAddress DST4 = addr("192.168.0.11", 443);
    static final InetSocketAddress SRC6 = addr("2001:db8::1", 12345);
    static final InetSocketAddress DST6 = addr("2001:db8::2", 143);

    static ProxyHeader tcp4() {
        return ProxyHeader.proxy(SRC4, DST4);
    }

    static ProxyHeader tcp6() {
        return ProxyHeader.proxy(SRC6, DST6);
    }

    static ProxyHeader unix(TransportProtocol transport) {
        return ProxyHeader.unix("/var/run/src.sock", "/var/run/dst.sock", transport);
    }

    static SslTlv fullSsl() {
        return SslTlv.builder()
                .clientSsl(true).clientCertConn(true).clientCertSess(true)
                .verify(0)
                .version("TLSv1.3")
                .commonName("cn")
                .cipher("TLS_AES_128_GCM_SHA256")
                .signatureAlgorithm("RSA-SHA256")
                .keyAlgorithm("RSA2048")
                .group("X25519")
                .signatureScheme("rsa_pss_rsae_sha256")
                .clientCert(new byte[] {0x30, (byte) 0x82, 0x01})
                .build();
    }

    static ProxyHeader tcp4AllTlvs() {
        return tcp4()
                .withTlv(Tlv.alpn("imap"))
                .withTlv(Tlv.authority("mail.example.com"))
                .withTlv(Tlv.noop(3))
                .withTlv(Tlv.uniqueId(new byte[] {(byte) 0xde, (byte) 0xad, (byte) 0xbe, (byte) 0xef}))
                .withTlv(fullSsl())
                .withTlv(Tlv.netns("blue"))
                .withTlv(Tlv.custom(0xE0, new byte[] {(byte) 0xca, (byte) 0xfe}))
                .withTlv(Tlv.opaque(0xF0, Hex.bytes("00112233 44556677 8899aabb ccddeeff 00112233")));
    }
}
