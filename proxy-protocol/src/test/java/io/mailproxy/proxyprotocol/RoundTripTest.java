package io.mailproxy.proxyprotocol;

import io.mailproxy.testing.Hex;
import static io.mailproxy.proxyprotocol.Headers.DST4;
import static io.mailproxy.proxyprotocol.Headers.DST6;
import static io.mailproxy.proxyprotocol.Headers.SRC4;
import static io.mailproxy.proxyprotocol.Headers.SRC6;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** encode -> decode gives the header back, through the real handler, for every kind of header. */
class RoundTripTest {

    static Stream<ProxyHeader> v2Headers() {
        return Stream.of(
                ProxyHeader.local(),
                ProxyHeader.local().withTlv(Tlv.uniqueId(new byte[] {1, 2, 3})),
                ProxyHeader.unknown(),
                ProxyHeader.unknown().withTlv(Tlv.authority("imap.example.org")),
                Headers.tcp4(),
                Headers.tcp6(),
                ProxyHeader.proxy(SRC4, DST4, TransportProtocol.DGRAM),
                ProxyHeader.proxy(SRC6, DST6, TransportProtocol.DGRAM),
                ProxyHeader.proxy(SRC4, DST6),
                ProxyHeader.proxy(SRC6, DST4),
                Headers.unix(TransportProtocol.STREAM),
                Headers.unix(TransportProtocol.DGRAM),
                ProxyHeader.unix("", "\u00e9t\u00e9.sock", TransportProtocol.STREAM),
                Headers.tcp4AllTlvs(),
                Headers.tcp4().withTlv(SslTlv.builder().build()),
                Headers.tcp4().withTlv(SslTlv.builder().clientSsl(true).verify(0xFFFF_FFFFL)
                        .subTlv(0x7F, new byte[] {9}).clientCert(new byte[2000]).build()),
                Headers.tcp4().withTlv(Tlv.noop(0)).withTlv(Tlv.alpn("")).withTlv(Tlv.uniqueId(new byte[128])),
                Headers.tcp6().withTlv(Tlv.opaque(0x21, new byte[] {1})).withTlv(Tlv.opaque(0xFF, new byte[0])),
                Headers.tcp4().withTlv(Tlv.alpn("imap")).withTlv(Tlv.alpn("pop3")));
    }

    @ParameterizedTest
    @MethodSource("v2Headers")
    void v2(ProxyHeader header) {
        assertEquals(header, decode(ProxyHeaderEncoder.encodeV2(header, ByteBufAllocator.DEFAULT, false)));
    }

    @ParameterizedTest
    @MethodSource("v2Headers")
    void v2WithCrc32c(ProxyHeader header) {
        ByteBuf encoded = ProxyHeaderEncoder.encodeV2(header, ByteBufAllocator.DEFAULT, true);
        int checksum = encoded.getInt(encoded.writerIndex() - 4);
        List<Tlv> expected = new ArrayList<>(header.tlvs());
        expected.add(new Tlv.Crc32c(checksum));
        assertEquals(header.withTlvs(expected), decode(encoded));
    }

    static Stream<ProxyHeader> v1Headers() {
        return Stream.of(Headers.tcp4(), Headers.tcp6(), ProxyHeader.proxy(SRC4, DST6), ProxyHeader.unknown(),
                ProxyHeader.proxy(Headers.addr("0.0.0.0", 0), Headers.addr("255.255.255.255", 65535)),
                ProxyHeader.proxy(Headers.addr("::", 0), Headers.addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1)),
                ProxyHeader.proxy(Headers.addr("fe80::1:2", 7), Headers.addr("1:0:0:1::", 8)));
    }

    @ParameterizedTest
    @MethodSource("v1Headers")
    void v1(ProxyHeader header) {
        ProxyHeader decoded = decode(ProxyHeaderEncoder.encodeV1(header, ByteBufAllocator.DEFAULT));
        assertEquals(ProxyVersion.V1, decoded.version());
        assertEquals(header.command(), decoded.command());
        assertEquals(header.family(), decoded.family());
        assertEquals(header.transport(), decoded.transport());
        assertEquals(header.sourceAddress(), decoded.sourceAddress());
        assertEquals(header.destinationAddress(), decoded.destinationAddress());
    }

    @ParameterizedTest
    @MethodSource("v2Headers")
    void decodedV2ReEncodesByteForByte(ProxyHeader header) {
        ByteBuf first = ProxyHeaderEncoder.encodeV2(header, ByteBufAllocator.DEFAULT, true);
        String hex = ByteBufUtil.hexDump(first);
        ProxyHeader decoded = decode(first);
        assertEquals(hex, Hex.drain(ProxyHeaderEncoder.encodeV2(decoded, ByteBufAllocator.DEFAULT, true)));
    }

    private static ProxyHeader decode(ByteBuf encoded) {
        EmbeddedChannel ch = new EmbeddedChannel(new ProxyProtocolDecoder(ProxyProtocolDecoder.MAX_MAX_HEADER_SIZE));
        ch.writeInbound(encoded);
        ProxyHeader header = ch.readInbound();
        assertNull(ch.readInbound());
        assertFalse(ch.finishAndReleaseAll());
        return header;
    }
}
