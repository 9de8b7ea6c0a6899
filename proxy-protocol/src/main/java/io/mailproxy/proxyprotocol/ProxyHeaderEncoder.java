package io.mailproxy.proxyprotocol;

import static io.mailproxy.proxyprotocol.ProxyConstants.CRC32C_LENGTH;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_TYPE_CRC32C;
import static io.mailproxy.proxyprotocol.ProxyConstants.TLV_HEADER_LENGTH;
import static io.mailproxy.proxyprotocol.ProxyConstants.UNIX_PATH_LENGTH;
import static io.mailproxy.proxyprotocol.ProxyConstants.V2_MAX_LENGTH_FIELD;
import static io.mailproxy.proxyprotocol.ProxyConstants.V2_SIGNATURE;
import static io.mailproxy.proxyprotocol.ProxyConstants.V2_VERSION;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * Writes PROXY headers. The returned buffer belongs to the caller (write it, or release it).
 */
public final class ProxyHeaderEncoder {

    private ProxyHeaderEncoder() {
    }

    /**
     * The v1 line (spec 2.1): {@code PROXY TCP4|TCP6 src dst sport dport\r\n} for a PROXY header over
     * TCP, and {@code PROXY UNKNOWN\r\n} for anything v1 cannot express (LOCAL, UNSPEC, UNIX, UDP).
     * TLVs are ignored: v1 has none. IPv6 addresses are written in RFC 5952 form.
     */
    public static ByteBuf encodeV1(ProxyHeader header, ByteBufAllocator alloc) {
        String line;
        boolean tcp = header.command() == ProxyCommand.PROXY && header.transport() == TransportProtocol.STREAM;
        if (tcp && header.family() == AddressFamily.INET) {
            line = v1Line("TCP4", header);
        } else if (tcp && header.family() == AddressFamily.INET6) {
            line = v1Line("TCP6", header);
        } else {
            line = "PROXY UNKNOWN\r\n";
        }
        ByteBuf out = alloc.buffer(line.length());
        out.writeCharSequence(line, StandardCharsets.US_ASCII);
        return out;
    }

    /**
     * The v2 block (spec 2.2). A LOCAL header is written with family byte 0x00 and no addresses.
     * CRC32C TLVs already in the header are dropped (their value would be stale); with
     * {@code crc32c} a fresh one is appended, computed as spec 2.2.3 says: over the whole header
     * with the checksum field zeroed.
     *
     * @throws IllegalArgumentException if the header would exceed the u16 length field
     */
    public static ByteBuf encodeV2(ProxyHeader header, ByteBufAllocator alloc, boolean crc32c) {
        AddressFamily family = header.command() == ProxyCommand.LOCAL ? AddressFamily.UNSPEC : header.family();
        TransportProtocol transport = family == AddressFamily.UNSPEC ? TransportProtocol.UNSPEC : header.transport();
        int length = v2Length(header, family, crc32c);

        ByteBuf out = alloc.buffer(ProxyConstants.V2_FIXED_LENGTH + length);
        out.writeBytes(V2_SIGNATURE);
        out.writeByte(V2_VERSION << 4 | (header.command() == ProxyCommand.LOCAL ? 0x0 : 0x1));
        out.writeByte(family.nibble() << 4 | transport.nibble());
        out.writeShort(length);
        switch (family) {
            case INET, INET6 -> {
                writeAddress(out, header.sourceAddress().getAddress(), family);
                writeAddress(out, header.destinationAddress().getAddress(), family);
                out.writeShort(header.sourceAddress().getPort());
                out.writeShort(header.destinationAddress().getPort());
            }
            case UNIX -> {
                writeUnixPath(out, header.sourceUnixPathBytes());
                writeUnixPath(out, header.destinationUnixPathBytes());
            }
            case UNSPEC -> {
                // No address block.
            }
        }
        for (Tlv tlv : header.tlvs()) {
            if (tlv.type() != PP2_TYPE_CRC32C) {
                out.writeByte(tlv.type());
                out.writeShort(tlv.valueLength());
                if (tlv instanceof Tlv.Noop noop) {
                    out.writeZero(noop.length());
                } else {
                    out.writeBytes(tlv.value());
                }
            }
        }
        if (crc32c) {
            out.writeByte(PP2_TYPE_CRC32C);
            out.writeShort(CRC32C_LENGTH);
            int checksumIndex = out.writerIndex();
            out.writeInt(0);
            out.setInt(checksumIndex, (int) crc32c(out, out.readerIndex(), out.readableBytes()));
        }
        return out;
    }

    /** CRC32C (RFC 4960 appendix B, the Castagnoli polynomial) of a region of {@code buf}. */
    static long crc32c(ByteBuf buf, int index, int length) {
        CRC32C crc = new CRC32C();
        crc.update(buf.nioBuffer(index, length));
        return crc.getValue();
    }

    private static int v2Length(ProxyHeader header, AddressFamily family, boolean crc32c) {
        long length = family.addressBlockLength();
        for (Tlv tlv : header.tlvs()) {
            if (tlv.type() != PP2_TYPE_CRC32C) {
                length += TLV_HEADER_LENGTH + tlv.valueLength();
            }
        }
        if (crc32c) {
            length += TLV_HEADER_LENGTH + CRC32C_LENGTH;
        }
        if (length > V2_MAX_LENGTH_FIELD) {
            throw new IllegalArgumentException(
                    "header length (" + length + ") exceeds the v2 length field's maximum (" + V2_MAX_LENGTH_FIELD + ")");
        }
        return (int) length;
    }

    private static String v1Line(String protocol, ProxyHeader header) {
        InetSocketAddress src = header.sourceAddress();
        InetSocketAddress dst = header.destinationAddress();
        return "PROXY " + protocol + ' ' + NetUtil.toAddressString(src.getAddress()) + ' '
                + NetUtil.toAddressString(dst.getAddress()) + ' ' + src.getPort() + ' ' + dst.getPort() + "\r\n";
    }

    private static void writeAddress(ByteBuf out, InetAddress address, AddressFamily family) {
        out.writeBytes(family == AddressFamily.INET6 ? ProxyHeader.toInet6(address).getAddress() : address.getAddress());
    }

    private static void writeUnixPath(ByteBuf out, byte[] bytes) {
        out.writeBytes(bytes);
        out.writeZero(UNIX_PATH_LENGTH - bytes.length);
    }
}
