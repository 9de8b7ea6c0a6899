package io.mailproxy.proxyprotocol;

import io.mailproxy.testing.Hex;
import static io.mailproxy.proxyprotocol.Headers.DST4;
import static io.mailproxy.proxyprotocol.Headers.DST6;
import static io.mailproxy.proxyprotocol.Headers.SRC4;
import static io.mailproxy.proxyprotocol.Headers.SRC6;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProxyHeaderEncoderTest {

    private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

    private static String v1(ProxyHeader header) {
        ByteBuf buf = ProxyHeaderEncoder.encodeV1(header, ALLOC);
        try {
            return buf.toString(StandardCharsets.US_ASCII);
        } finally {
            buf.release();
        }
    }

    private static String v2(ProxyHeader header, boolean crc32c) {
        return Hex.drain(ProxyHeaderEncoder.encodeV2(header, ALLOC, crc32c));
    }

    @Test
    void v1Tcp4() {
        // The spec's own example line (2.1).
        assertEquals("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n", v1(Headers.tcp4()));
    }

    @Test
    void v1Tcp4BytesAreAscii() {
        ByteBuf buf = ProxyHeaderEncoder.encodeV1(Headers.tcp4(), ALLOC);
        assertEquals(Hex.hex("""
                50524f58 5920      # "PROXY "
                54435034 20        # "TCP4 "
                3139322e 3136382e 302e3120       # "192.168.0.1 "
                3139322e 3136382e 302e3131 20    # "192.168.0.11 "
                35363332 3420      # "56324 "
                343433             # "443"
                0d0a               # CRLF
                """), Hex.drain(buf));
    }

    @Test
    void v1Tcp6UsesCompressedForm() {
        assertEquals("PROXY TCP6 2001:db8::1 2001:db8::2 12345 143\r\n", v1(Headers.tcp6()));
    }

    @Test
    void v1MixedFamiliesGoOutAsTcp6WithMappedAddress() {
        assertEquals("PROXY TCP6 ::ffff:c0a8:1 2001:db8::2 56324 143\r\n", v1(ProxyHeader.proxy(SRC4, DST6)));
    }

    @Test
    void v1LocalIsUnknown() {
        assertEquals("PROXY UNKNOWN\r\n", v1(ProxyHeader.local()));
    }

    @Test
    void v1WhatV1CannotSayIsUnknown() {
        assertEquals("PROXY UNKNOWN\r\n", v1(ProxyHeader.unknown()));
        assertEquals("PROXY UNKNOWN\r\n", v1(Headers.unix(TransportProtocol.STREAM)));
        assertEquals("PROXY UNKNOWN\r\n", v1(ProxyHeader.proxy(SRC4, DST4, TransportProtocol.DGRAM)));
    }

    @Test
    void v1IgnoresTlvs() {
        assertEquals("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n",
                v1(Headers.tcp4().withTlv(Tlv.alpn("imap"))));
    }

    @Test
    void v1Ports0And65535() {
        assertEquals("PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n",
                v1(ProxyHeader.proxy(Headers.addr("0.0.0.0", 0), Headers.addr("255.255.255.255", 65535))));
    }

    @Test
    void v2Local() {
        assertEquals(Hex.hex(Vectors.V2_LOCAL), v2(ProxyHeader.local(), false));
    }

    @Test
    void v2Tcp4() {
        assertEquals(Hex.hex(Vectors.V2_TCP4), v2(Headers.tcp4(), false));
    }

    @Test
    void v2Udp4() {
        assertEquals(Hex.hex(Vectors.V2_UDP4), v2(ProxyHeader.proxy(SRC4, DST4, TransportProtocol.DGRAM), false));
    }

    @Test
    void v2Tcp6() {
        assertEquals(Hex.hex(Vectors.V2_TCP6), v2(Headers.tcp6(), false));
    }

    @Test
    void v2Udp6() {
        assertEquals(Hex.hex(Vectors.V2_UDP6), v2(ProxyHeader.proxy(SRC6, DST6, TransportProtocol.DGRAM), false));
    }

    @Test
    void v2MixedFamiliesMapIpv4IntoIpv6() {
        ProxyHeader header = ProxyHeader.proxy(SRC4, DST6);
        assertEquals(AddressFamily.INET6, header.family());
        assertEquals(Hex.hex(Vectors.V2_TCP6_MAPPED), v2(header, false));
    }

    @Test
    void v2UnixStream() {
        assertEquals(Hex.hex(Vectors.V2_UNIX_STREAM), v2(Headers.unix(TransportProtocol.STREAM), false));
    }

    @Test
    void v2UnixDgram() {
        assertEquals(Hex.hex(Vectors.V2_UNIX_DGRAM), v2(Headers.unix(TransportProtocol.DGRAM), false));
    }

    @Test
    void v2Unspec() {
        assertEquals(Hex.hex(Vectors.V2_UNSPEC), v2(ProxyHeader.unknown(), false));
    }

    @Test
    void v2EveryTlvType() {
        assertEquals(Hex.hex(Vectors.V2_TCP4_ALL_TLVS), v2(Headers.tcp4AllTlvs(), false));
    }

    @Test
    void v2LocalWithCrc32c() {
        assertEquals(Hex.hex(Vectors.V2_LOCAL_CRC), v2(ProxyHeader.local(), true));
    }

    @Test
    void v2Tcp4WithCrc32c() {
        assertEquals(Hex.hex(Vectors.V2_TCP4_CRC), v2(Headers.tcp4(), true));
    }

    @Test
    void v2DropsStaleCrc32cTlvs() {
        ProxyHeader stale = Headers.tcp4().withTlv(new Tlv.Crc32c(0x12345678));
        assertEquals(Hex.hex(Vectors.V2_TCP4), v2(stale, false));
        assertEquals(Hex.hex(Vectors.V2_TCP4_CRC), v2(stale, true));
    }

    @Test
    void crc32cIsCastagnoli() {
        // RFC 3720 / 4960 check value: CRC32C("123456789") = 0xE3069283.
        ByteBuf buf = Unpooled.copiedBuffer("123456789", StandardCharsets.US_ASCII);
        try {
            assertEquals(0xE3069283L, ProxyHeaderEncoder.crc32c(buf, 0, 9));
        } finally {
            buf.release();
        }
    }

    @Test
    void v2RefusesHeaderBeyondU16Length() {
        ProxyHeader header = Headers.tcp4();
        for (int i = 0; i < 2; i++) {
            header = header.withTlv(Tlv.noop(65535 - 3));
        }
        // 12 address bytes + 2 x (3 + 65532) = 131082.
        ProxyHeader tooLong = header;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ProxyHeaderEncoder.encodeV2(tooLong, ALLOC, false));
        assertEquals("header length (131082) exceeds the v2 length field's maximum (65535)", e.getMessage());
    }

    @Test
    void v2LargestHeaderFits() {
        // 12 address bytes + 3 + 65520 = 65535, the u16 maximum.
        ByteBuf buf = ProxyHeaderEncoder.encodeV2(Headers.tcp4().withTlv(Tlv.noop(65520)), ALLOC, false);
        try {
            assertEquals(16 + 65535, buf.readableBytes());
            assertEquals(0xFFFF, buf.getUnsignedShort(14));
        } finally {
            buf.release();
        }
    }

    @Test
    void encodedBufferIsTheCallers() {
        ByteBuf buf = ProxyHeaderEncoder.encodeV2(ProxyHeader.local(), ALLOC, false);
        assertEquals(1, buf.refCnt());
        assertEquals(16, ByteBufUtil.getBytes(buf).length);
        buf.release();
    }
}
