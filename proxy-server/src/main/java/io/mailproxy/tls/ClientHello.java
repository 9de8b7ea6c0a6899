package io.mailproxy.tls;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * What mailproxy reads from a client's ClientHello (RFC 8446 4.1.2, RFC 5246 7.4.1.2) to choose a
 * certificate before the engine sees it: the SNI name, and whether the client can take an ECDSA
 * certificate (HAProxy's test in {@code ssl_sock_switchctx_cbk}: a signature algorithm with ECDSA,
 * or no signature_algorithms extension at all, and a cipher suite that an ECDSA certificate can
 * serve: an ECDHE_ECDSA one, or a TLS 1.3 one when the client offers TLS 1.3).
 *
 * @param serverName the SNI host name exactly as sent, one char per byte (ISO-8859-1), or null
 * @param ecdsa      whether an ECDSA certificate would do for this client
 */
public record ClientHello(String serverName, boolean ecdsa) {

    /** A ClientHello that could not be read: no name, and the RSA certificate when there is a choice. */
    public static final ClientHello UNREADABLE = new ClientHello(null, false);

    private static final int EXT_SERVER_NAME = 0;
    private static final int EXT_SIGNATURE_ALGORITHMS = 13;
    private static final int EXT_SUPPORTED_VERSIONS = 43;
    private static final int SIGNATURE_ECDSA = 3;
    private static final int TLS13 = 0x0304;

    /** The SNI name when it is a host name, lower-cased; null otherwise. */
    public String dnsName() {
        return DnsNames.isDnsName(serverName) ? serverName.toLowerCase(java.util.Locale.ROOT) : null;
    }

    /**
     * Reads the body of a ClientHello handshake message (after its 4-byte header), without
     * consuming it. Anything malformed gives {@link #UNREADABLE}: the engine then refuses the
     * handshake with the right alert.
     */
    public static ClientHello parse(ByteBuf hello) {
        try {
            return read(hello, hello.readerIndex(), hello.writerIndex());
        } catch (IndexOutOfBoundsException e) {
            return UNREADABLE;
        }
    }

    private static ClientHello read(ByteBuf b, int start, int end) {
        int i = start + 2 + 32;                       // client_version, random
        i += 1 + b.getUnsignedByte(i);                // session_id
        int suitesLength = b.getUnsignedShort(i);
        int suites = i + 2;
        i = suites + suitesLength;
        i += 1 + b.getUnsignedByte(i);                // compression_methods
        if (i > end) {
            return UNREADABLE;
        }
        String serverName = null;
        boolean sigalgsSeen = false;
        boolean ecdsaSignature = false;
        boolean tls13 = false;
        if (i + 2 <= end) {
            int extensionsEnd = Math.min(end, i + 2 + b.getUnsignedShort(i));
            i += 2;
            while (i + 4 <= extensionsEnd) {
                int type = b.getUnsignedShort(i);
                int length = b.getUnsignedShort(i + 2);
                int data = i + 4;
                if (data + length > extensionsEnd) {
                    return UNREADABLE;
                }
                switch (type) {
                    case EXT_SERVER_NAME -> serverName = serverName(b, data, data + length);
                    case EXT_SIGNATURE_ALGORITHMS -> {
                        sigalgsSeen = true;
                        ecdsaSignature = anyEcdsa(b, data, data + length);
                    }
                    case EXT_SUPPORTED_VERSIONS -> tls13 = offers(b, data, data + length, TLS13);
                    default -> {
                        // not needed to choose a certificate
                    }
                }
                i = data + length;
            }
        }
        boolean ecdsaSuite = false;
        for (int s = suites; s + 2 <= suites + suitesLength; s += 2) {
            int suite = b.getUnsignedShort(s);
            if (isEcdsaSuite(suite) || tls13 && (suite >> 8) == 0x13) {
                ecdsaSuite = true;
                break;
            }
        }
        return new ClientHello(serverName, (!sigalgsSeen || ecdsaSignature) && ecdsaSuite);
    }

    /** RFC 6066 3: a server_name_list whose host_name entry is taken; other name types are skipped. */
    private static String serverName(ByteBuf b, int from, int to) {
        int i = from + 2;
        while (i + 3 <= to) {
            int nameType = b.getUnsignedByte(i);
            int length = b.getUnsignedShort(i + 1);
            if (i + 3 + length > to) {
                return null;
            }
            if (nameType == 0) {
                return b.toString(i + 3, length, StandardCharsets.ISO_8859_1);
            }
            i += 3 + length;
        }
        return null;
    }

    /** TLS 1.2 pairs (hash, signature) and TLS 1.3 schemes alike carry ECDSA as 3 in their low byte. */
    private static boolean anyEcdsa(ByteBuf b, int from, int to) {
        int end = Math.min(to, from + 2 + b.getUnsignedShort(from));
        for (int i = from + 2; i + 2 <= end; i += 2) {
            if (b.getUnsignedByte(i + 1) == SIGNATURE_ECDSA) {
                return true;
            }
        }
        return false;
    }

    private static boolean offers(ByteBuf b, int from, int to, int version) {
        int end = Math.min(to, from + 1 + b.getUnsignedByte(from));
        for (int i = from + 1; i + 2 <= end; i += 2) {
            if (b.getUnsignedShort(i) == version) {
                return true;
            }
        }
        return false;
    }

    /** The ECDHE_ECDSA suites of the IANA registry (0xC006-0xC00A, 0xC023-0xC024, 0xC02B-0xC02C, 0xC072-0xC073, 0xC086-0xC087, 0xC0AC-0xC0AF, 0xCCA9). */
    static boolean isEcdsaSuite(int suite) {
        return suite >= 0xC006 && suite <= 0xC00A || suite == 0xC023 || suite == 0xC024 || suite == 0xC02B
                || suite == 0xC02C || suite == 0xC072 || suite == 0xC073 || suite == 0xC086 || suite == 0xC087
                || suite >= 0xC0AC && suite <= 0xC0AF || suite == 0xCCA9;
    }
}
