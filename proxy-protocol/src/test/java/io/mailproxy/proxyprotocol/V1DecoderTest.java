package io.mailproxy.proxyprotocol;

import static io.mailproxy.proxyprotocol.Channels.assertFails;
import static io.mailproxy.proxyprotocol.Channels.decodeWhole;
import static io.mailproxy.proxyprotocol.Channels.decoder;
import static io.mailproxy.proxyprotocol.Channels.failingByte;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class V1DecoderTest {

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static ProxyHeader decode(String line) {
        return decodeWhole(ascii(line));
    }

    private static ProxyProtocolException fails(String line, ProxyProtocolError error) {
        EmbeddedChannel ch = decoder();
        ProxyProtocolException e = assertFails(ch, ascii(line), error);
        assertFalse(ch.finishAndReleaseAll());
        return e;
    }

    @Test
    void tcp4() {
        ProxyHeader header = decode("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
        assertEquals(ProxyVersion.V1, header.version());
        assertEquals(ProxyCommand.PROXY, header.command());
        assertEquals(AddressFamily.INET, header.family());
        assertEquals(TransportProtocol.STREAM, header.transport());
        assertEquals(Headers.SRC4, header.sourceAddress());
        assertEquals(Headers.DST4, header.destinationAddress());
        assertEquals(List.of(), header.tlvs());
    }

    @Test
    void tcp6() {
        ProxyHeader header = decode("PROXY TCP6 2001:db8::1 2001:db8::2 12345 143\r\n");
        assertEquals(AddressFamily.INET6, header.family());
        assertEquals(Headers.SRC6, header.sourceAddress());
        assertEquals(Headers.DST6, header.destinationAddress());
    }

    @Test
    void tcp6FullFormUpperCase() {
        ProxyHeader header = decode(
                "PROXY TCP6 2001:0DB8:0000:0000:0000:0000:0000:0001 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 1 2\r\n");
        assertEquals(Headers.SRC6.getAddress(), header.sourceAddress().getAddress());
    }

    @Test
    void tcp6WorstCaseIs104Bytes() {
        String line = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
                + " 65535 65535\r\n";
        assertEquals(104, line.length());
        assertEquals(65535, decode(line).sourceAddress().getPort());
    }

    @Test
    void tcp6MappedStaysIpv6() {
        ProxyHeader header = decode("PROXY TCP6 ::ffff:192.168.0.1 ::1 56324 143\r\n");
        assertEquals(Headers.mapped("192.168.0.1", 56324), header.sourceAddress());
    }

    @Test
    void tcp6Unspecified() {
        assertEquals(Headers.addr("::", 0), decode("PROXY TCP6 :: ::1 0 1\r\n").sourceAddress());
    }

    @Test
    void ports0And65535() {
        ProxyHeader header = decode("PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n");
        assertEquals(0, header.sourceAddress().getPort());
        assertEquals(65535, header.destinationAddress().getPort());
    }

    @Test
    void unknownShortForm() {
        ProxyHeader header = decode("PROXY UNKNOWN\r\n");
        assertEquals(ProxyCommand.PROXY, header.command());
        assertEquals(AddressFamily.UNSPEC, header.family());
        assertNull(header.sourceAddress());
        assertEquals(ProxyVersion.V1, header.version());
    }

    @Test
    void unknownIgnoresTheRestOfTheLine() {
        // 2.1: "the receiver must ignore anything presented before the CRLF is found".
        assertEquals(AddressFamily.UNSPEC, decode("PROXY UNKNOWN whatever it says 1 2\r\n").family());
    }

    @Test
    void unknownWorstCaseIs107Bytes() {
        String line = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
                + " 65535 65535\r\n";
        assertEquals(107, line.length());
        assertEquals(AddressFamily.UNSPEC, decode(line).family());
    }

    @Test
    void oneByteAtATime() {
        EmbeddedChannel ch = decoder();
        ProxyHeader header = Channels.decodeBytewise(ch, ascii("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"));
        assertEquals(Headers.SRC4, header.sourceAddress());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void bytesAfterTheLineArePassedOn() {
        EmbeddedChannel ch = decoder();
        ch.writeInbound(Unpooled.wrappedBuffer(ascii("PROXY UNKNOWN\r\nEHLO x\r\n")));
        assertEquals(AddressFamily.UNSPEC, ((ProxyHeader) ch.readInbound()).family());
        ByteBuf rest = ch.readInbound();
        assertEquals("EHLO x\r\n", rest.toString(StandardCharsets.US_ASCII));
        rest.release();
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void noCrlfWithin107Bytes() {
        String line = "PROXY UNKNOWN " + "x".repeat(93); // 107 bytes, no CRLF
        ProxyProtocolException e = fails(line, ProxyProtocolError.PRX_TOO_LONG);
        assertEquals("no CRLF within the first 107 bytes of the v1 line", e.detail());
    }

    @Test
    void crlfAt108IsTooLate() {
        // 106 bytes then CR: the LF would be byte 108.
        fails("PROXY UNKNOWN " + "x".repeat(92) + "\r\n", ProxyProtocolError.PRX_TOO_LONG);
    }

    @Test
    void tooLongFailsAtByte107WithoutWaiting() {
        EmbeddedChannel ch = decoder();
        byte[] bytes = ascii("PROXY UNKNOWN " + "x".repeat(200));
        assertEquals(106, failingByte(ch, bytes, ProxyProtocolError.PRX_TOO_LONG));
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void loneLfIsNotALineEnd() {
        ProxyProtocolException e = fails("PROXY UNKNOWN\n", ProxyProtocolError.PRX_BAD_HDR);
        assertEquals("lone LF at offset 13 (a v1 line ends with CRLF only)", e.detail());
    }

    @Test
    void loneCrIsNotALineEnd() {
        ProxyProtocolException e = fails("PROXY UNKNOWN\rX", ProxyProtocolError.PRX_BAD_HDR);
        assertEquals("lone CR at offset 13 followed by 'X' (a v1 line ends with CRLF only)", e.detail());
    }

    @Test
    void loneCrInsideTcp4Line() {
        fails("PROXY TCP4 1.2.3.4\r 5.6.7.8 1 2\r\n", ProxyProtocolError.PRX_BAD_HDR);
    }

    @Test
    void crAtEndOfReadWaitsForTheNextByte() {
        EmbeddedChannel ch = decoder();
        ch.writeInbound(Unpooled.wrappedBuffer(ascii("PROXY UNKNOWN\r")));
        assertNull(ch.readInbound());
        ch.writeInbound(Unpooled.wrappedBuffer(ascii("\n")));
        assertEquals(AddressFamily.UNSPEC, ((ProxyHeader) ch.readInbound()).family());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void notProxyFailsOnTheFirstByte() {
        EmbeddedChannel ch = decoder();
        assertEquals(0, failingByte(ch, ascii("GET / HTTP/1.1\r\n"), ProxyProtocolError.PRX_NOT_HDR));
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void notProxyMessage() {
        ProxyProtocolException e = fails("a001 LOGIN", ProxyProtocolError.PRX_NOT_HDR);
        assertEquals("first byte (0x61) starts neither a v1 line (\"PROXY \") nor a v2 signature (0x0D)", e.detail());
    }

    @Test
    void badPrefixFailsAtTheWrongByte() {
        EmbeddedChannel ch = decoder();
        assertEquals(4, failingByte(ch, ascii("PROXZ TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), ProxyProtocolError.PRX_NOT_HDR));
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void prefixNeedsExactlyOneSpace() {
        fails("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", ProxyProtocolError.PRX_BAD_PROTO);
        fails("PROXY\tTCP4 1.2.3.4 5.6.7.8 1 2\r\n", ProxyProtocolError.PRX_NOT_HDR);
    }

    @Test
    void unknownProtocolFailsEarly() {
        EmbeddedChannel ch = decoder();
        assertEquals(9, failingByte(ch, ascii("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n"), ProxyProtocolError.PRX_BAD_PROTO));
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void unknownProtocolMessage() {
        ProxyProtocolException e = fails("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", ProxyProtocolError.PRX_BAD_PROTO);
        assertEquals("v1 protocol starting \"UDP4 1.2\" is not TCP4, TCP6 or UNKNOWN", e.detail());
    }

    @Test
    void unknownMustBeAWholeToken() {
        ProxyProtocolException e = fails("PROXY UNKNOWNX\r\n", ProxyProtocolError.PRX_BAD_PROTO);
        assertEquals("v1 protocol \"UNKNOWNX\" is not TCP4, TCP6 or UNKNOWN", e.detail());
    }

    @Test
    void protocolWithoutAddresses() {
        fails("PROXY TCP4\r\n", ProxyProtocolError.PRX_BAD_PROTO);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",          // a port missing
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",      // a field too many
        "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n",       // two spaces
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",       // trailing space
        "PROXY TCP4 \r\n",                           // no fields
    })
    void wrongFieldCount(String line) {
        fails(line, ProxyProtocolError.PRX_BAD_HDR);
    }

    @Test
    void wrongFieldCountMessage() {
        ProxyProtocolException e = fails("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", ProxyProtocolError.PRX_BAD_HDR);
        assertEquals("v1 line \"PROXY TCP4 1.2.3.4 5.6.7.8 1\" has 3 space-separated field(s) after the protocol"
                + " (expected 4: src dst sport dport)", e.detail());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n",      // octet over 255
        "PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n",       // heading zero (octal confusion, 2.1)
        "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n",          // three octets
        "PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n",      // five octets
        "PROXY TCP4 1..3.4 5.6.7.8 1 2\r\n",         // empty octet
        "PROXY TCP4 1.2.3.4 5.6.7.0x8 1 2\r\n",      // hex
        "PROXY TCP4 ::1 5.6.7.8 1 2\r\n",            // IPv6 under TCP4
        "PROXY TCP4 1.2.3.4 -5.6.7.8 1 2\r\n",       // sign
        "PROXY TCP6 1.2.3.4 ::1 1 2\r\n",            // IPv4 under TCP6
        "PROXY TCP6 1::2::3 ::1 1 2\r\n",            // two "::"
        "PROXY TCP6 12345::1 ::1 1 2\r\n",           // five hex digits
        "PROXY TCP6 1:2:3:4:5:6:7 ::1 1 2\r\n",      // seven groups
        "PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n",  // nine groups
        "PROXY TCP6 1:2:3:4::5:6:7:8 ::1 1 2\r\n",   // "::" standing for nothing
        "PROXY TCP6 :1:2:3:4:5:6:7 ::1 1 2\r\n",     // leading single colon
        "PROXY TCP6 g::1 ::1 1 2\r\n",               // not hex
        "PROXY TCP6 ::1%eth0 ::1 1 2\r\n",           // scope id
        "PROXY TCP6 [::1] ::1 1 2\r\n",              // brackets
        "PROXY TCP6 ::ffff:1.2.3.04 ::1 1 2\r\n",    // heading zero in embedded IPv4
    })
    void badAddress(String line) {
        fails(line, ProxyProtocolError.PRX_BAD_ADDR);
    }

    @Test
    void badAddressMessage() {
        ProxyProtocolException e = fails("PROXY TCP4 1.2.3.4 05.6.7.8 1 2\r\n", ProxyProtocolError.PRX_BAD_ADDR);
        assertEquals("v1 destination address \"05.6.7.8\" is not a dotted-quad IPv4 address without heading zeroes",
                e.detail());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",    // over 65535
        "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",       // heading zero
        "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",       // sign
        "PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n",       // sign
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 0x10\r\n",     // hex
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 100000\r\n",   // six digits
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n",    // five digits over 65535
    })
    void badPort(String line) {
        fails(line, ProxyProtocolError.PRX_BAD_PORT);
    }

    @Test
    void badPortMessage() {
        ProxyProtocolException e = fails("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", ProxyProtocolError.PRX_BAD_PORT);
        assertEquals("v1 source port \"65536\" is not a decimal integer in [0..65535] without heading zeroes", e.detail());
    }

    @Test
    void nonAsciiIsEscapedInMessages() {
        ProxyProtocolException e = fails("PROXY TCP4 1.2.3.\u00e9 5.6.7.8 1 2\r\n", ProxyProtocolError.PRX_BAD_ADDR);
        assertEquals("v1 source address \"1.2.3.\\xE9\" is not a dotted-quad IPv4 address without heading zeroes",
                e.detail());
    }

    @Test
    void truncatedByClose() {
        EmbeddedChannel ch = decoder();
        ch.writeInbound(Unpooled.wrappedBuffer(ascii("PROXY TCP4 1.2.3.4")));
        ProxyProtocolException e = assertThrows(ProxyProtocolException.class, ch::finishAndReleaseAll);
        assertEquals(ProxyProtocolError.PRX_TRUNCATED, e.error());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void truncatedByInputShutdown() {
        EmbeddedChannel ch = decoder();
        ch.writeInbound(Unpooled.wrappedBuffer(ascii("PROXY ")));
        ch.pipeline().fireUserEventTriggered(io.netty.channel.socket.ChannelInputShutdownEvent.INSTANCE);
        ProxyProtocolException e = assertThrows(ProxyProtocolException.class, ch::checkException);
        assertEquals(ProxyProtocolError.PRX_TRUNCATED, e.error());
        assertFalse(ch.finishAndReleaseAll());
    }
}
