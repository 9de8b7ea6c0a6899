package io.mailproxy.backend;

import io.mailproxy.backend.OutboundProxyHeader.ClientSide;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.config.ProxyV2Option;
import io.mailproxy.config.SendProxy;
import io.mailproxy.proxyprotocol.ProxyHeader;
import io.mailproxy.proxyprotocol.ProxyProtocolDecoder;
import io.mailproxy.proxyprotocol.SslTlv;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.NoSuchAlgorithmException;
import java.util.Set;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link OutboundProxyHeader} with {@code proxy-v2-options}, decoded back with the strict decoder. */
class OutboundProxyHeaderOptionsTest {

    private static final InetSocketAddress CLIENT = new InetSocketAddress("203.0.113.5", 51000);
    private static final InetSocketAddress DESTINATION = new InetSocketAddress("198.51.100.1", 993);
    private static final SslTlv UPSTREAM_SSL = SslTlv.builder().clientSsl(true).verify(0).version("TLSv1.3").build();

    private static ProxyHeader roundTrip(ByteBuf encoded) {
        try {
            return ProxyProtocolDecoder.decode(encoded, ProxyProtocolDecoder.DEFAULT_MAX_HEADER_SIZE);
        } finally {
            encoded.release();
        }
    }

    @Test
    void crc32cAndUniqueIdAreAdded() {
        ProxyHeader h = roundTrip(OutboundProxyHeader.encode(SendProxy.V2, Set.of(ProxyV2Option.CRC32C, ProxyV2Option.UNIQUE_ID),
                new ClientSide(CLIENT, DESTINATION, null, null, null, "imap", "0123456789abcdef0123456789abcdef"),
                ByteBufAllocator.DEFAULT));
        assertEquals(CLIENT, h.sourceAddress());
        assertEquals("0123456789abcdef0123456789abcdef", new String(h.uniqueId().orElseThrow(), StandardCharsets.US_ASCII));
        // The decoder checks the CRC32C it finds: a present, valid one decodes.
        assertTrue(h.tlv(0x03).isPresent());
    }

    @Test
    void withoutOptionsNeitherIsSent() {
        ProxyHeader h = roundTrip(OutboundProxyHeader.encode(SendProxy.V2, Set.of(),
                new ClientSide(CLIENT, DESTINATION, null, null, null, "imap", "0123456789abcdef0123456789abcdef"),
                ByteBufAllocator.DEFAULT));
        assertFalse(h.tlv(0x03).isPresent());
        assertFalse(h.uniqueId().isPresent());
    }

    @Test
    void forwardedSslTlvAndAuthorityGoOnUnchangedForAPlaintextClient() {
        ProxyHeader h = roundTrip(OutboundProxyHeader.encode(SendProxy.V2_SSL, Set.of(),
                new ClientSide(CLIENT, DESTINATION, null, "mail.example.com", UPSTREAM_SSL, "imap", null),
                ByteBufAllocator.DEFAULT));
        assertEquals(UPSTREAM_SSL, h.ssl().orElseThrow());
        assertEquals("mail.example.com", h.authority().orElseThrow());
    }

    @Test
    void forwardedSslTlvNeedsAnSslSendingMode() {
        ProxyHeader h = roundTrip(OutboundProxyHeader.encode(SendProxy.V2, Set.of(),
                new ClientSide(CLIENT, DESTINATION, null, null, UPSTREAM_SSL, "imap", null),
                ByteBufAllocator.DEFAULT));
        assertFalse(h.ssl().isPresent());
        // As in HAProxy, an SSL option turns the SSL TLV on with plain v2.
        ProxyHeader withCipher = roundTrip(OutboundProxyHeader.encode(SendProxy.V2, Set.of(ProxyV2Option.SSL_CIPHER),
                new ClientSide(CLIENT, DESTINATION, null, null, UPSTREAM_SSL, "imap", null),
                ByteBufAllocator.DEFAULT));
        assertTrue(withCipher.ssl().isPresent());
    }

    @Test
    void v1IgnoresOptions() {
        ByteBuf b = OutboundProxyHeader.encode(SendProxy.V1, Set.of(ProxyV2Option.CRC32C),
                new ClientSide(CLIENT, DESTINATION, null, null, null, "imap", null),
                ByteBufAllocator.DEFAULT);
        try {
            assertEquals("PROXY TCP4 203.0.113.5 198.51.100.1 51000 993\r\n", b.toString(StandardCharsets.US_ASCII));
        } finally {
            b.release();
        }
    }

    @Test
    void authorityCarriesASniNameThatIsADnsName() {
        ProxyHeader h = roundTrip(OutboundProxyHeader.encode(SendProxy.V2, Set.of(),
                new ClientSide(CLIENT, DESTINATION, null, "Mail-1.example.COM", null, "imap", null),
                ByteBufAllocator.DEFAULT));
        assertEquals("Mail-1.example.COM", h.authority().orElseThrow());
    }

    /** Dovecot 2.4 drops the whole connection for such an AUTHORITY, so none is sent. */
    @ParameterizedTest
    @ValueSource(strings = {"bad!name", "under_score.example.com", "mail.example.com.", ".example.com", "a..b",
            "space here", "\u00e9cole.example", ""})
    void anSniNameThatIsNoDnsNameIsNotSent(String sni) {
        ProxyHeader h = roundTrip(OutboundProxyHeader.encode(SendProxy.V2, Set.of(),
                new ClientSide(CLIENT, DESTINATION, null, sni, null, "imap", null), ByteBufAllocator.DEFAULT));
        assertFalse(h.authority().isPresent(), sni);
    }

    @Test
    void dnsNameLimitsAreRfc1035s() {
        String label63 = "a".repeat(63);
        assertTrue(OutboundProxyHeader.isDnsName(label63 + ".example"));
        assertFalse(OutboundProxyHeader.isDnsName("a" + label63 + ".example"), "a 64-character label");
        String name255 = (label63 + ".").repeat(3) + "b".repeat(63);
        assertEquals(255, name255.length());
        assertTrue(OutboundProxyHeader.isDnsName(name255));
        assertFalse(OutboundProxyHeader.isDnsName(name255 + "c"), "256 characters");
    }

    /** ALPN goes out only when the backend lists {@code alpn}: Debian's Dovecot 2.4.1 drops every ALPN TLV. */
    @Test
    void alpnIsSentOnlyWithTheOption() throws NoSuchAlgorithmException {
        SslHandler negotiatedImap = new SslHandler(SSLContext.getDefault().createSSLEngine()) {
            @Override
            public String applicationProtocol() {
                return "imap";
            }
        };
        ClientSide side = new ClientSide(CLIENT, DESTINATION, negotiatedImap, null, null, "imap", null);
        ProxyHeader without = roundTrip(OutboundProxyHeader.encode(SendProxy.V2_SSL, Set.of(), side,
                ByteBufAllocator.DEFAULT));
        assertFalse(without.alpn().isPresent());
        ProxyHeader with = roundTrip(OutboundProxyHeader.encode(SendProxy.V2_SSL, Set.of(ProxyV2Option.ALPN), side,
                ByteBufAllocator.DEFAULT));
        assertEquals("imap", with.alpn().orElseThrow());
        // negative control: a protocol other than the frontend's is never sent
        ProxyHeader other = roundTrip(OutboundProxyHeader.encode(SendProxy.V2_SSL, Set.of(ProxyV2Option.ALPN),
                new ClientSide(CLIENT, DESTINATION, negotiatedImap, null, null, "pop3", null), ByteBufAllocator.DEFAULT));
        assertFalse(other.alpn().isPresent());
    }
}
