package io.mailproxy.proxyprotocol;

import io.mailproxy.testing.Hex;
import static io.mailproxy.proxyprotocol.Channels.assertFails;
import static io.mailproxy.proxyprotocol.Channels.decodeWhole;
import static io.mailproxy.proxyprotocol.Channels.decoder;
import static io.mailproxy.proxyprotocol.Channels.failingByte;
import static io.mailproxy.proxyprotocol.Headers.DST4;
import static io.mailproxy.proxyprotocol.Headers.DST6;
import static io.mailproxy.proxyprotocol.Headers.SRC4;
import static io.mailproxy.proxyprotocol.Headers.SRC6;
import static io.mailproxy.proxyprotocol.Vectors.SIG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class V2DecoderTest {

    private static ProxyHeader decode(String vector) {
        return decodeWhole(Hex.bytes(vector));
    }

    @Test
    void local() {
        ProxyHeader header = decode(Vectors.V2_LOCAL);
        assertEquals(ProxyHeader.local(), header);
        assertEquals(ProxyVersion.V2, header.version());
    }

    @Test
    void localIgnoresItsAddressBlock() {
        // 2.2: for LOCAL the receiver must discard the protocol block, family included.
        ProxyHeader header = decode(SIG + """
                20          # version 2, LOCAL
                11          # INET, STREAM (ignored)
                000c        # length 12
                7f000001 7f000001 1f90 1f91 # 127.0.0.1:8080 -> 127.0.0.1:8081 (ignored)
                """);
        assertEquals(ProxyHeader.local(), header);
    }

    @Test
    void localWithFamilyButNoAddressesIsAccepted() {
        // 2.2: a LOCAL sender "should not present any address so it sets this field to zero".
        assertEquals(ProxyHeader.local(), decode(SIG + "20 11 0000 # LOCAL, INET/STREAM, length 0"));
    }

    @Test
    void localKeepsItsTlvs() {
        assertEquals(ProxyHeader.local().withTlv(Tlv.alpn("imap")),
                decode(SIG + "20 00 0007 # LOCAL, UNSPEC, length 7\n 01 0004 696d6170 # ALPN imap"));
    }

    @Test
    void tcp4() {
        assertEquals(Headers.tcp4(), decode(Vectors.V2_TCP4));
    }

    @Test
    void udp4() {
        assertEquals(ProxyHeader.proxy(SRC4, DST4, TransportProtocol.DGRAM), decode(Vectors.V2_UDP4));
    }

    @Test
    void tcp6() {
        assertEquals(Headers.tcp6(), decode(Vectors.V2_TCP6));
    }

    @Test
    void udp6() {
        assertEquals(ProxyHeader.proxy(SRC6, DST6, TransportProtocol.DGRAM), decode(Vectors.V2_UDP6));
    }

    @Test
    void tcp6MappedStaysInet6() {
        ProxyHeader header = decode(Vectors.V2_TCP6_MAPPED);
        assertEquals(AddressFamily.INET6, header.family());
        assertEquals(Headers.mapped("192.168.0.1", 56324), header.sourceAddress());
        assertEquals(ProxyHeader.proxy(SRC4, DST6), header);
    }

    @Test
    void unixStream() {
        ProxyHeader header = decode(Vectors.V2_UNIX_STREAM);
        assertEquals(Headers.unix(TransportProtocol.STREAM), header);
        assertEquals("/var/run/src.sock", header.sourceUnixPath());
        assertNull(header.sourceAddress());
    }

    @Test
    void unixDgram() {
        assertEquals(Headers.unix(TransportProtocol.DGRAM), decode(Vectors.V2_UNIX_DGRAM));
    }

    @Test
    void unixPathFilling108BytesHasNoNul() {
        String path = "p".repeat(108);
        String hex = io.netty.buffer.ByteBufUtil.hexDump(path.getBytes(StandardCharsets.US_ASCII));
        ProxyHeader header = decode(SIG + "21 31 00d8 # PROXY, UNIX/STREAM, length 216\n"
                + hex + " # source: 108 x 'p', no NUL\n" + hex + " # destination: same");
        assertEquals(path, header.sourceUnixPath());
    }

    @Test
    void unspec() {
        ProxyHeader header = decode(Vectors.V2_UNSPEC);
        assertEquals(ProxyHeader.unknown(), header);
        assertNull(header.sourceAddress());
    }

    @Test
    void everyTlvType() {
        ProxyHeader header = decode(Vectors.V2_TCP4_ALL_TLVS);
        assertEquals(Headers.tcp4AllTlvs(), header);
        assertEquals(Optional.of("imap"), header.alpn());
        assertEquals(Optional.of("mail.example.com"), header.authority());
        assertEquals(Optional.of("cn"), header.ssl().flatMap(SslTlv::commonName));
        assertEquals(Optional.of(Tlv.noop(3)), header.tlv(0x04));
        assertEquals(Optional.of(Tlv.netns("blue")), header.tlv(0x30));
        assertEquals(Optional.of(Tlv.custom(0xE0, new byte[] {(byte) 0xca, (byte) 0xfe})), header.tlv(0xE0));
    }

    @Test
    void noopContentIsIgnored() {
        assertEquals(Headers.tcp4().withTlv(Tlv.noop(2)),
                decode(Vectors.V2_TCP4.replace("000c        # length 12", "0011 # length 17")
                        + "04 0002 abcd # NOOP with non-zero padding"));
    }

    @Test
    void sslWithoutSubTlvsAndUnknownSubTlv() {
        ProxyHeader header = decode(SIG + """
                21 00 0010              # PROXY, UNSPEC, length 16
                20 000d                 # SSL, length 13
                   01                   #   client: SSL
                   00000001             #   verify 1: no verified certificate
                   29 0001 ff           #   sub-type 0x29, unknown: kept
                   21 0001 78           #   VERSION "x"
                """);
        SslTlv ssl = header.ssl().orElseThrow();
        assertEquals(1, ssl.verify());
        assertEquals(Optional.of("x"), ssl.version());
        assertEquals(List.of(new SslTlv.SubTlv(0x29, new byte[] {(byte) 0xff}),
                new SslTlv.SubTlv(0x21, new byte[] {'x'})), ssl.subTlvs());
    }

    @Test
    void crc32cOnLocalIsChecked() {
        ProxyHeader header = decode(Vectors.V2_LOCAL_CRC);
        assertEquals(Optional.of(new Tlv.Crc32c(0xa9b87e8f)), header.tlv(0x03));
    }

    @Test
    void crc32cOnTcp4IsChecked() {
        assertEquals(Headers.tcp4().withTlv(new Tlv.Crc32c(0x1c1ae9c6)), decode(Vectors.V2_TCP4_CRC));
    }

    @Test
    void uniqueIdOf128BytesIsAccepted() {
        String id = "ab".repeat(128);
        ProxyHeader header = decode(SIG + "21 00 0083 # PROXY, UNSPEC, length 131\n 05 0080 # UNIQUE_ID, 128 bytes\n" + id);
        assertEquals(128, header.uniqueId().orElseThrow().length);
    }

    @Test
    void oneByteAtATime() {
        EmbeddedChannel ch = decoder();
        assertEquals(Headers.tcp4AllTlvs(), Channels.decodeBytewise(ch, Hex.bytes(Vectors.V2_TCP4_ALL_TLVS)));
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void bytesAfterTheHeaderArePassedOnAfterIt() {
        EmbeddedChannel ch = decoder();
        ByteBuf in = Unpooled.wrappedBuffer(Hex.bytes(Vectors.V2_LOCAL),
                "* OK ready\r\n".getBytes(StandardCharsets.US_ASCII));
        ch.writeInbound(in);
        assertEquals(ProxyHeader.local(), ch.readInbound());
        ByteBuf rest = ch.readInbound();
        assertEquals("* OK ready\r\n", rest.toString(StandardCharsets.US_ASCII));
        rest.release();
        assertNull(ch.pipeline().get(ProxyProtocolDecoder.class));
        // Later reads bypass the (removed) decoder.
        ch.writeInbound(Unpooled.copiedBuffer("more", StandardCharsets.US_ASCII));
        ByteBuf more = ch.readInbound();
        assertEquals("more", more.toString(StandardCharsets.US_ASCII));
        more.release();
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void staticDecodeWithoutPipeline() {
        ByteBuf in = Unpooled.buffer();
        try {
            byte[] bytes = Hex.bytes(Vectors.V2_TCP4);
            in.writeBytes(bytes, 0, 20);
            assertNull(ProxyProtocolDecoder.decode(in, 4096), "incomplete: null");
            assertEquals(20, in.readableBytes(), "incomplete: nothing consumed");
            in.writeBytes(bytes, 20, bytes.length - 20).writeByte('x');
            assertEquals(Headers.tcp4(), ProxyProtocolDecoder.decode(in, 4096));
            assertEquals(1, in.readableBytes(), "the header, and only it, is consumed");
        } finally {
            in.release();
        }
    }

    @Test
    void badSignatureFailsAtTheFirstWrongByte() {
        EmbeddedChannel ch = decoder();
        byte[] bytes = Hex.bytes(Vectors.V2_LOCAL);
        bytes[11] = 0x0B; // last signature byte: 0x0A expected
        assertEquals(11, failingByte(ch, bytes, ProxyProtocolError.PRX_NOT_HDR));
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void badSignatureMessage() {
        EmbeddedChannel ch = decoder();
        ProxyProtocolException e = assertFails(ch, Hex.bytes("0d0a0d0a 00 0d0a 52 # 'R' where 'Q' belongs"),
                ProxyProtocolError.PRX_NOT_HDR);
        assertEquals("byte 7 (0x52) does not match the v2 signature (expected 0x51)", e.detail());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void badVersion() {
        EmbeddedChannel ch = decoder();
        byte[] bytes = Hex.bytes(SIG + "11 # version 1, PROXY\n 11 000c");
        assertEquals(12, failingByte(ch, bytes, ProxyProtocolError.PRX_BAD_VERSION));
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void badVersionMessage() {
        EmbeddedChannel ch = decoder();
        ProxyProtocolException e = assertFails(ch, Hex.bytes(SIG + "31 # version 3, PROXY"),
                ProxyProtocolError.PRX_BAD_VERSION);
        assertEquals("version nibble (0x3) of byte 12 (0x31) is not 0x2", e.detail());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void badCommand() {
        EmbeddedChannel ch = decoder();
        ProxyProtocolException e = assertFails(ch, Hex.bytes(SIG + "22 # version 2, command 2"),
                ProxyProtocolError.PRX_BAD_CMD);
        assertEquals("command nibble (0x2) is neither LOCAL (0x0) nor PROXY (0x1)", e.detail());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void badFamily() {
        EmbeddedChannel ch = decoder();
        ProxyProtocolException e = assertFails(ch, Hex.bytes(SIG + "21 41 # family 4"),
                ProxyProtocolError.PRX_BAD_PROTO);
        assertEquals("family/transport byte (0x41) is not one of 0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32",
                e.detail());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void badTransport() {
        EmbeddedChannel ch = decoder();
        assertFails(ch, Hex.bytes(SIG + "21 13 # INET, transport 3"), ProxyProtocolError.PRX_BAD_PROTO);
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void unspecFamilyWithTransportIsRefused() {
        EmbeddedChannel ch = decoder();
        assertFails(ch, Hex.bytes(SIG + "21 01 # UNSPEC family, STREAM: not in the spec's list"),
                ProxyProtocolError.PRX_BAD_PROTO);
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void inetWithUnspecTransportIsRefused() {
        EmbeddedChannel ch = decoder();
        assertFails(ch, Hex.bytes(SIG + "21 10 # INET, UNSPEC transport: not in the spec's list"),
                ProxyProtocolError.PRX_BAD_PROTO);
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void badFamilyOnLocalIsRefusedToo() {
        EmbeddedChannel ch = decoder();
        assertFails(ch, Hex.bytes(SIG + "20 f1 # LOCAL, family 0xF"), ProxyProtocolError.PRX_BAD_PROTO);
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void tooLongFailsOnTheLengthFieldWithoutWaiting() {
        EmbeddedChannel ch = decoder(1500);
        ProxyProtocolException e = assertFails(ch, Hex.bytes(SIG + "21 11 1000 # length 4096: header 4112"),
                ProxyProtocolError.PRX_TOO_LONG);
        assertEquals("header length (4112) exceeds the allowed maximum (1500)", e.detail());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void exactlyMaxHeaderSizeIsAccepted() {
        EmbeddedChannel ch = decoder(300);
        // 16 + 12 + 3 + 269 = 300.
        ch.writeInbound(Unpooled.wrappedBuffer(Hex.bytes(Vectors.V2_TCP4.replace("000c        # length 12",
                "011c # length 284") + "04 010d # NOOP, 269 bytes\n" + "00".repeat(269))));
        ProxyHeader header = ch.readInbound();
        assertEquals(Optional.of(Tlv.noop(269)), header.tlv(0x04));
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void maxHeaderSizeMustHoldAUnixBlock() {
        assertThrows(IllegalArgumentException.class, () -> new ProxyProtocolDecoder(231));
        assertThrows(IllegalArgumentException.class, () -> new ProxyProtocolDecoder(65552));
    }

    @Test
    void lengthShorterThanAddressBlock() {
        EmbeddedChannel ch = decoder();
        ProxyProtocolException e = assertFails(ch, Hex.bytes(SIG + "21 21 0023 # INET6 needs 36, length says 35"),
                ProxyProtocolError.PRX_BAD_LEN);
        assertEquals("address length (35) is shorter than the INET6 address block (36)", e.detail());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void localWithPartialAddressBlockIsRefused() {
        EmbeddedChannel ch = decoder();
        assertFails(ch, Hex.bytes(SIG + "20 11 0005 # LOCAL, INET, 5 bytes: neither none nor a whole block"),
                ProxyProtocolError.PRX_BAD_LEN);
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void badCrc32c() {
        EmbeddedChannel ch = decoder();
        String vector = Vectors.V2_TCP4_CRC.replace("03 0004 1c1ae9c6", "03 0004 1c1ae9c7");
        ProxyProtocolException e = assertFails(ch, Hex.bytes(vector), ProxyProtocolError.PRX_BAD_CRC);
        assertEquals("received CRC32C (0x1C1AE9C7) does not match the header's (0x1C1AE9C6)", e.detail());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void crc32cCoversAddresses() {
        EmbeddedChannel ch = decoder();
        // Same checksum, source address changed from 192.168.0.1 to 192.168.0.2.
        String vector = Vectors.V2_TCP4_CRC.replace("c0a80001    # source", "c0a80002    # source");
        assertFails(ch, Hex.bytes(vector), ProxyProtocolError.PRX_BAD_CRC);
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void crc32cOfWrongLength() {
        EmbeddedChannel ch = decoder();
        ProxyProtocolException e = assertFails(ch, Hex.bytes(SIG + "20 00 0006 # LOCAL, length 6\n 03 0003 000000"),
                ProxyProtocolError.PRX_BAD_TLV_LEN);
        assertEquals("CRC32C TLV length (3) is not 4", e.detail());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void truncatedTlvHeader() {
        EmbeddedChannel ch = decoder();
        ProxyProtocolException e = assertFails(ch, Hex.bytes(SIG + "21 00 0002 # PROXY UNSPEC, length 2\n 01 00"),
                ProxyProtocolError.PRX_BAD_TLV_LEN);
        assertEquals("TLV 0x01 is truncated: 2 byte(s) left for its header (expected 3)", e.detail());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void tlvLongerThanTheHeader() {
        EmbeddedChannel ch = decoder();
        ProxyProtocolException e = assertFails(ch,
                Hex.bytes(SIG + "21 00 0007 # length 7\n 01 0005 696d6170 # ALPN claims 5, 4 left"),
                ProxyProtocolError.PRX_BAD_TLV_LEN);
        assertEquals("TLV 0x01 length (5) exceeds the 4 byte(s) left in its container", e.detail());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void sslShorterThanClientAndVerify() {
        EmbeddedChannel ch = decoder();
        ProxyProtocolException e = assertFails(ch,
                Hex.bytes(SIG + "21 00 0007 # length 7\n 20 0004 01000000 # SSL, 4 bytes: verify cut short"),
                ProxyProtocolError.PRX_BAD_TLV_LEN);
        assertEquals("SSL TLV length (4) is shorter than its client and verify fields (5)", e.detail());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void sslSubTlvLongerThanItsParent() {
        EmbeddedChannel ch = decoder();
        ProxyProtocolException e = assertFails(ch, Hex.bytes(SIG + """
                21 00 0012      # PROXY UNSPEC, length 18
                20 0009         # SSL, length 9
                   01 00000000  #   client SSL, verify 0
                   21 0005 54   #   VERSION claims 5 bytes, its parent has 1 left
                04 0003 000000  # NOOP: the outer header has the bytes, the SSL TLV does not
                """), ProxyProtocolError.PRX_BAD_TLV_LEN);
        assertEquals("SSL sub-TLV 0x21 length (5) exceeds the 1 byte(s) left in its container", e.detail());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void sslSubTlvHeaderTruncated() {
        EmbeddedChannel ch = decoder();
        assertFails(ch, Hex.bytes(SIG + """
                21 00 000a      # PROXY UNSPEC, length 10
                20 0007         # SSL, length 7
                   01 00000000  #   client SSL, verify 0
                   21 00        #   2 bytes: not even a sub-TLV header
                """), ProxyProtocolError.PRX_BAD_TLV_LEN);
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void uniqueIdLongerThan128Bytes() {
        EmbeddedChannel ch = decoder();
        ProxyProtocolException e = assertFails(ch,
                Hex.bytes(SIG + "21 00 0084 # length 132\n 05 0081 # UNIQUE_ID, 129 bytes\n" + "ab".repeat(129)),
                ProxyProtocolError.PRX_UNIQUE_ID_TOO_LONG);
        assertEquals("UNIQUE_ID length (129) exceeds the allowed maximum (128)", e.detail());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void truncatedByClose() {
        EmbeddedChannel ch = decoder();
        ch.writeInbound(Unpooled.wrappedBuffer(Hex.bytes(SIG + "21 11 000c c0a80001 # 4 of 12 address bytes")));
        ProxyProtocolException e = assertThrows(ProxyProtocolException.class, ch::finishAndReleaseAll);
        assertEquals(ProxyProtocolError.PRX_TRUNCATED, e.error());
        assertEquals("connection ended after 20 byte(s) of an incomplete header", e.detail());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void closeBeforeAnyByte() {
        EmbeddedChannel ch = decoder();
        ProxyProtocolException e = assertThrows(ProxyProtocolException.class, ch::finishAndReleaseAll);
        assertEquals(ProxyProtocolError.PRX_EMPTY, e.error());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void bytesAfterAFailureAreDropped() {
        EmbeddedChannel ch = decoder();
        // One read holding a bad header and more data: nothing of it is passed on.
        assertFails(ch, Hex.bytes(SIG + "22 11 000c 00000000 00000000 0000 0000 aabbcc"), ProxyProtocolError.PRX_BAD_CMD);
        assertFalse(ch.finishAndReleaseAll());
    }
}
