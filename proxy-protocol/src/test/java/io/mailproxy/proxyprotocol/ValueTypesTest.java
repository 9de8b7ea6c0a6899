package io.mailproxy.proxyprotocol;

import static io.mailproxy.proxyprotocol.Headers.DST4;
import static io.mailproxy.proxyprotocol.Headers.SRC4;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ValueTypesTest {

    @Test
    void localHasNoAddresses() {
        ProxyHeader local = ProxyHeader.local();
        assertEquals(ProxyCommand.LOCAL, local.command());
        assertEquals(AddressFamily.UNSPEC, local.family());
        assertNull(local.sourceAddress());
        assertNull(local.destinationAddress());
        assertEquals(List.of(), local.tlvs());
    }

    @Test
    void withTlvCopies() {
        ProxyHeader plain = Headers.tcp4();
        ProxyHeader withAlpn = plain.withTlv(Tlv.alpn("imap"));
        assertEquals(List.of(), plain.tlvs());
        assertEquals(Optional.of("imap"), withAlpn.alpn());
        assertEquals(Optional.of(Tlv.alpn("imap")), withAlpn.tlv(0x01));
        assertEquals(Optional.empty(), withAlpn.tlv(0x02));
    }

    @Test
    void mixedFamiliesBecomeInet6() {
        ProxyHeader header = ProxyHeader.proxy(SRC4, Headers.DST6);
        assertTrue(header.sourceAddress().getAddress() instanceof Inet6Address);
        assertEquals(SRC4.getPort(), header.sourceAddress().getPort());
    }

    @Test
    void unresolvedAddressIsRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> ProxyHeader.proxy(InetSocketAddress.createUnresolved("example.com", 1), DST4));
    }

    @Test
    void unixPathLongerThan108BytesIsRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> ProxyHeader.unix("x".repeat(109), "/d", TransportProtocol.STREAM));
        ProxyHeader.unix("x".repeat(108), "/d", TransportProtocol.STREAM);
    }

    @Test
    void uniqueIdLongerThan128BytesIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tlv.uniqueId(new byte[129]));
        assertEquals("UNIQUE_ID length (129) exceeds the allowed maximum (128)", e.getMessage());
        assertEquals(128, Tlv.uniqueId(new byte[128]).valueLength());
    }

    @Test
    void customTypeMustBeInCustomRange() {
        assertThrows(IllegalArgumentException.class, () -> Tlv.custom(0xDF, new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> Tlv.custom(0xF0, new byte[0]));
        assertTrue(Tlv.custom(0xEF, new byte[0]).isCustom());
        assertFalse(Tlv.opaque(0xF0, new byte[0]).isCustom());
    }

    @Test
    void opaqueRefusesRegisteredTypes() {
        assertThrows(IllegalArgumentException.class, () -> Tlv.opaque(0x01, new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> Tlv.opaque(0x20, new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> Tlv.opaque(0x30, new byte[0]));
    }

    @Test
    void byteArraysAreCopied() {
        byte[] id = {1, 2, 3};
        Tlv.UniqueId tlv = Tlv.uniqueId(id);
        id[0] = 9;
        assertArrayEquals(new byte[] {1, 2, 3}, tlv.value());
        tlv.value()[1] = 9;
        assertArrayEquals(new byte[] {1, 2, 3}, tlv.value());
        assertEquals(Tlv.uniqueId(new byte[] {1, 2, 3}), tlv);
        assertNotEquals(Tlv.uniqueId(new byte[] {1, 2}), tlv);
    }

    @Test
    void sslAccessors() {
        SslTlv ssl = Headers.fullSsl();
        assertTrue(ssl.clientSsl());
        assertTrue(ssl.clientCertConn());
        assertTrue(ssl.clientCertSess());
        assertEquals(0, ssl.verify());
        assertEquals(Optional.of("TLSv1.3"), ssl.version());
        assertEquals(Optional.of("cn"), ssl.commonName());
        assertEquals(Optional.of("TLS_AES_128_GCM_SHA256"), ssl.cipher());
        assertEquals(Optional.of("RSA-SHA256"), ssl.signatureAlgorithm());
        assertEquals(Optional.of("RSA2048"), ssl.keyAlgorithm());
        assertEquals(Optional.of("X25519"), ssl.group());
        assertEquals(Optional.of("rsa_pss_rsae_sha256"), ssl.signatureScheme());
        assertArrayEquals(new byte[] {0x30, (byte) 0x82, 0x01}, ssl.clientCert().orElseThrow());
        assertEquals(105, ssl.valueLength());
    }

    @Test
    void sslAbsentFieldsAreEmpty() {
        SslTlv ssl = SslTlv.builder().verify(0xFFFF_FFFFL).build();
        assertFalse(ssl.clientSsl());
        assertEquals(0xFFFF_FFFFL, ssl.verify());
        assertEquals(Optional.empty(), ssl.commonName());
        assertEquals(Optional.empty(), ssl.clientCert());
        assertArrayEquals(new byte[] {0, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF}, ssl.value());
    }

    @Test
    void sslVerifyOutsideU32IsRefused() {
        assertThrows(IllegalArgumentException.class, () -> SslTlv.builder().verify(1L << 32).build());
        assertThrows(IllegalArgumentException.class, () -> SslTlv.builder().verify(-1).build());
    }

    @Test
    void errorsHaveCodesAndSentences() {
        assertEquals("PRX_BAD_HDR", ProxyProtocolError.PRX_BAD_HDR.code());
        assertEquals("Received an invalid PROXY protocol header", ProxyProtocolError.PRX_BAD_HDR.description());
        assertEquals("Truncated PROXY protocol header received", ProxyProtocolError.PRX_TRUNCATED.description());
        ProxyProtocolException e = new ProxyProtocolException(ProxyProtocolError.PRX_TOO_LONG,
                "header length (70000) exceeds the allowed maximum (1500)");
        assertEquals("PRX_TOO_LONG Received a PROXY protocol header longer than allowed: "
                + "header length (70000) exceeds the allowed maximum (1500)", e.getMessage());
        assertEquals(ProxyProtocolError.PRX_TOO_LONG, e.error());
    }
}
