package io.mailproxy.proxyprotocol;

import static io.mailproxy.proxyprotocol.ProxyConstants.CRC32C_LENGTH;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_TYPE_ALPN;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_TYPE_AUTHORITY;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_TYPE_CRC32C;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_TYPE_NETNS;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_TYPE_NOOP;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_TYPE_SSL;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_TYPE_UNIQUE_ID;
import static io.mailproxy.proxyprotocol.ProxyConstants.SSL_FIXED_LENGTH;
import static io.mailproxy.proxyprotocol.ProxyConstants.TLV_HEADER_LENGTH;
import static io.mailproxy.proxyprotocol.ProxyConstants.UNIQUE_ID_MAX_LENGTH;
import static io.mailproxy.proxyprotocol.ProxyConstants.UNIX_PATH_LENGTH;
import static io.mailproxy.proxyprotocol.ProxyConstants.V2_FIXED_LENGTH;
import static io.mailproxy.proxyprotocol.ProxyConstants.V2_SIGNATURE;
import static io.mailproxy.proxyprotocol.ProxyConstants.V2_VERSION;
import static io.mailproxy.proxyprotocol.ProxyProtocolError.PRX_BAD_CMD;
import static io.mailproxy.proxyprotocol.ProxyProtocolError.PRX_BAD_CRC;
import static io.mailproxy.proxyprotocol.ProxyProtocolError.PRX_BAD_LEN;
import static io.mailproxy.proxyprotocol.ProxyProtocolError.PRX_BAD_PROTO;
import static io.mailproxy.proxyprotocol.ProxyProtocolError.PRX_BAD_TLV_LEN;
import static io.mailproxy.proxyprotocol.ProxyProtocolError.PRX_BAD_VERSION;
import static io.mailproxy.proxyprotocol.ProxyProtocolError.PRX_NOT_HDR;
import static io.mailproxy.proxyprotocol.ProxyProtocolError.PRX_TOO_LONG;
import static io.mailproxy.proxyprotocol.ProxyProtocolError.PRX_UNIQUE_ID_TOO_LONG;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/** Parses the v2 binary block (spec 2.2) and its TLVs, checking each field as soon as it arrives. */
final class V2Parser {

    private V2Parser() {
    }

    /**
     * Returns the header and consumes its bytes, or returns {@code null} (consuming nothing) when
     * more bytes are needed.
     */
    static ProxyHeader parse(ByteBuf in, int maxHeaderSize) {
        int start = in.readerIndex();
        int readable = in.readableBytes();
        int signature = Math.min(readable, V2_SIGNATURE.length);
        for (int i = 0; i < signature; i++) {
            byte b = in.getByte(start + i);
            if (b != V2_SIGNATURE[i]) {
                throw new ProxyProtocolException(PRX_NOT_HDR, String.format(
                        "byte %d (0x%02X) does not match the v2 signature (expected 0x%02X)", i, b & 0xFF,
                        V2_SIGNATURE[i] & 0xFF));
            }
        }
        if (readable <= V2_SIGNATURE.length) {
            return null;
        }
        int verCmd = in.getUnsignedByte(start + 12);
        if (verCmd >>> 4 != V2_VERSION) {
            throw new ProxyProtocolException(PRX_BAD_VERSION, String.format(
                    "version nibble (0x%X) of byte 12 (0x%02X) is not 0x2", verCmd >>> 4, verCmd));
        }
        int cmd = verCmd & 0xF;
        if (cmd > 1) {
            throw new ProxyProtocolException(PRX_BAD_CMD, String.format(
                    "command nibble (0x%X) is neither LOCAL (0x0) nor PROXY (0x1)", cmd));
        }
        ProxyCommand command = cmd == 0 ? ProxyCommand.LOCAL : ProxyCommand.PROXY;
        if (readable < 14) {
            return null;
        }
        int fam = in.getUnsignedByte(start + 13);
        AddressFamily family = family(fam);
        TransportProtocol transport = transport(fam);
        if (readable < V2_FIXED_LENGTH) {
            return null;
        }
        int length = in.getUnsignedShort(start + 14);
        int total = V2_FIXED_LENGTH + length;
        if (total > maxHeaderSize) {
            throw new ProxyProtocolException(PRX_TOO_LONG,
                    "header length (" + total + ") exceeds the allowed maximum (" + maxHeaderSize + ")");
        }
        int addressLength = family.addressBlockLength();
        if (length < addressLength) {
            // 2.2: a LOCAL sender "should not present any address"; a zero length is fine then.
            if (command == ProxyCommand.PROXY || length != 0) {
                throw new ProxyProtocolException(PRX_BAD_LEN, "address length (" + length + ") is shorter than the "
                        + family + " address block (" + addressLength + ")");
            }
            addressLength = 0;
        }
        if (readable < total) {
            return null;
        }

        int pos = start + V2_FIXED_LENGTH;
        int end = start + total;
        List<Tlv> tlvs = parseTlvs(in, start, pos + addressLength, end);
        ProxyHeader header;
        if (command == ProxyCommand.LOCAL) {
            // 2.2: for LOCAL the receiver "must discard the protocol block including the family".
            header = new ProxyHeader(ProxyVersion.V2, command, AddressFamily.UNSPEC, TransportProtocol.UNSPEC,
                    null, null, null, null, tlvs);
        } else {
            header = switch (family) {
                case INET, INET6 -> inet(in, pos, family, transport, tlvs);
                case UNIX -> new ProxyHeader(ProxyVersion.V2, command, family, transport, null, null,
                        unixPath(in, pos), unixPath(in, pos + UNIX_PATH_LENGTH), tlvs);
                case UNSPEC -> new ProxyHeader(ProxyVersion.V2, command, family, transport,
                        null, null, null, null, tlvs);
            };
        }
        in.skipBytes(total);
        return header;
    }

    /** 2.2: only 0x00, 0x11, 0x12, 0x21, 0x22, 0x31 and 0x32 are defined; the rest must be rejected. */
    private static AddressFamily family(int fam) {
        for (AddressFamily family : AddressFamily.values()) {
            if (family.nibble() == fam >>> 4) {
                boolean unspec = family == AddressFamily.UNSPEC;
                int transport = fam & 0xF;
                if (unspec ? transport == 0 : transport == 1 || transport == 2) {
                    return family;
                }
            }
        }
        throw new ProxyProtocolException(PRX_BAD_PROTO, String.format(
                "family/transport byte (0x%02X) is not one of 0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32", fam));
    }

    private static TransportProtocol transport(int fam) {
        return TransportProtocol.values()[fam & 0xF];
    }

    private static ProxyHeader inet(ByteBuf in, int pos, AddressFamily family, TransportProtocol transport,
            List<Tlv> tlvs) {
        int size = family == AddressFamily.INET ? 4 : 16;
        InetAddress src = address(in, pos, size);
        InetAddress dst = address(in, pos + size, size);
        int sport = in.getUnsignedShort(pos + 2 * size);
        int dport = in.getUnsignedShort(pos + 2 * size + 2);
        return new ProxyHeader(ProxyVersion.V2, ProxyCommand.PROXY, family, transport,
                new InetSocketAddress(src, sport), new InetSocketAddress(dst, dport), null, null, tlvs);
    }

    private static InetAddress address(ByteBuf in, int pos, int size) {
        byte[] bytes = ByteBufUtil.getBytes(in, pos, size);
        if (size == 16) {
            // InetAddress.getByAddress would turn ::ffff:a.b.c.d into an Inet4Address.
            return ProxyHeader.inet6(bytes);
        }
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("4 bytes are always a valid IPv4 address", e);
        }
    }

    /** 2.2: 108 bytes; the path ends at the first NUL (or fills all 108). */
    private static byte[] unixPath(ByteBuf in, int pos) {
        int nul = in.indexOf(pos, pos + UNIX_PATH_LENGTH, (byte) 0);
        int length = nul < 0 ? UNIX_PATH_LENGTH : nul - pos;
        return ByteBufUtil.getBytes(in, pos, length);
    }

    private static List<Tlv> parseTlvs(ByteBuf in, int headerStart, int pos, int end) {
        List<Tlv> tlvs = new ArrayList<>();
        while (pos < end) {
            int type = in.getUnsignedByte(pos);
            int length = tlvLength(in, pos, end, "TLV");
            int value = pos + TLV_HEADER_LENGTH;
            tlvs.add(switch (type) {
                case PP2_TYPE_ALPN -> new Tlv.Alpn(ByteBufUtil.getBytes(in, value, length));
                case PP2_TYPE_AUTHORITY -> new Tlv.Authority(ByteBufUtil.getBytes(in, value, length));
                case PP2_TYPE_CRC32C -> crc32c(in, headerStart, end, value, length);
                case PP2_TYPE_NOOP -> new Tlv.Noop(length);
                case PP2_TYPE_UNIQUE_ID -> uniqueId(in, value, length);
                case PP2_TYPE_SSL -> ssl(in, value, length);
                case PP2_TYPE_NETNS -> new Tlv.Netns(ByteBufUtil.getBytes(in, value, length));
                default -> new Tlv.Opaque(type, ByteBufUtil.getBytes(in, value, length));
            });
            pos = value + length;
        }
        return tlvs;
    }

    /** Reads a TLV's length, failing if its header or value runs past {@code end}. */
    private static int tlvLength(ByteBuf in, int pos, int end, String what) {
        int type = in.getUnsignedByte(pos);
        if (end - pos < TLV_HEADER_LENGTH) {
            throw new ProxyProtocolException(PRX_BAD_TLV_LEN, String.format(
                    "%s 0x%02X is truncated: %d byte(s) left for its header (expected %d)",
                    what, type, end - pos, TLV_HEADER_LENGTH));
        }
        int length = in.getUnsignedShort(pos + 1);
        int left = end - pos - TLV_HEADER_LENGTH;
        if (length > left) {
            throw new ProxyProtocolException(PRX_BAD_TLV_LEN, String.format(
                    "%s 0x%02X length (%d) exceeds the %d byte(s) left in its container", what, type, length, left));
        }
        return length;
    }

    /** 2.2.3: zero the field, CRC32C the whole header, compare; a mismatch makes the header invalid. */
    private static Tlv crc32c(ByteBuf in, int headerStart, int headerEnd, int value, int length) {
        if (length != CRC32C_LENGTH) {
            throw new ProxyProtocolException(PRX_BAD_TLV_LEN,
                    "CRC32C TLV length (" + length + ") is not " + CRC32C_LENGTH);
        }
        byte[] header = ByteBufUtil.getBytes(in, headerStart, headerEnd - headerStart);
        int offset = value - headerStart;
        int received = in.getInt(value);
        header[offset] = 0;
        header[offset + 1] = 0;
        header[offset + 2] = 0;
        header[offset + 3] = 0;
        CRC32C crc = new CRC32C();
        crc.update(header);
        int computed = (int) crc.getValue();
        if (computed != received) {
            throw new ProxyProtocolException(PRX_BAD_CRC, String.format(
                    "received CRC32C (0x%08X) does not match the header's (0x%08X)", received, computed));
        }
        return new Tlv.Crc32c(received);
    }

    private static Tlv uniqueId(ByteBuf in, int value, int length) {
        if (length > UNIQUE_ID_MAX_LENGTH) {
            throw new ProxyProtocolException(PRX_UNIQUE_ID_TOO_LONG,
                    "UNIQUE_ID length (" + length + ") exceeds the allowed maximum (" + UNIQUE_ID_MAX_LENGTH + ")");
        }
        return new Tlv.UniqueId(ByteBufUtil.getBytes(in, value, length));
    }

    /** 2.2.6: u8 client, u32 verify, then sub-TLVs that must tile the rest of the value exactly. */
    private static Tlv ssl(ByteBuf in, int value, int length) {
        if (length < SSL_FIXED_LENGTH) {
            throw new ProxyProtocolException(PRX_BAD_TLV_LEN,
                    "SSL TLV length (" + length + ") is shorter than its client and verify fields (" + SSL_FIXED_LENGTH + ")");
        }
        int client = in.getUnsignedByte(value);
        long verify = in.getUnsignedInt(value + 1);
        int end = value + length;
        List<SslTlv.SubTlv> subs = new ArrayList<>();
        for (int pos = value + SSL_FIXED_LENGTH; pos < end; ) {
            int subLength = tlvLength(in, pos, end, "SSL sub-TLV");
            subs.add(new SslTlv.SubTlv(in.getUnsignedByte(pos),
                    ByteBufUtil.getBytes(in, pos + TLV_HEADER_LENGTH, subLength)));
            pos += TLV_HEADER_LENGTH + subLength;
        }
        return new SslTlv(client, verify, subs);
    }
}
