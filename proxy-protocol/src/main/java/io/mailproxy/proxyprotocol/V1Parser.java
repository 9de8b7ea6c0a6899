package io.mailproxy.proxyprotocol;

import static io.mailproxy.proxyprotocol.ProxyConstants.V1_MAX_LENGTH;
import static io.mailproxy.proxyprotocol.ProxyConstants.V1_PREFIX;
import static io.mailproxy.proxyprotocol.ProxyProtocolError.PRX_BAD_ADDR;
import static io.mailproxy.proxyprotocol.ProxyProtocolError.PRX_BAD_HDR;
import static io.mailproxy.proxyprotocol.ProxyProtocolError.PRX_BAD_PORT;
import static io.mailproxy.proxyprotocol.ProxyProtocolError.PRX_BAD_PROTO;
import static io.mailproxy.proxyprotocol.ProxyProtocolError.PRX_NOT_HDR;
import static io.mailproxy.proxyprotocol.ProxyProtocolError.PRX_TOO_LONG;

import io.netty.buffer.ByteBuf;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/** Parses the v1 text line (spec 2.1), strictly: exact tokens, single spaces, CRLF only. */
final class V1Parser {

    private static final String UNKNOWN = "UNKNOWN";
    private static final String[] PROTOCOLS = {"TCP4 ", "TCP6 ", UNKNOWN};
    /** 2.1: ports are decimal in [0..65535], so at most 5 digits. */
    private static final int PORT_MAX_DIGITS = 5;

    private V1Parser() {
    }

    /**
     * Returns the header and consumes its bytes, or returns {@code null} (consuming nothing) when
     * more bytes are needed. Fails as soon as the bytes at hand prove the line invalid.
     */
    static ProxyHeader parse(ByteBuf in) {
        int start = in.readerIndex();
        int readable = in.readableBytes();
        int prefix = Math.min(readable, V1_PREFIX.length);
        for (int i = 0; i < prefix; i++) {
            if (in.getByte(start + i) != V1_PREFIX[i]) {
                throw new ProxyProtocolException(PRX_NOT_HDR, String.format(
                        "byte %d (%s) does not match the v1 prefix \"PROXY \" (expected %s)",
                        i, ch(in.getByte(start + i)), ch(V1_PREFIX[i])));
            }
        }
        checkProtocolPrefix(in, start, readable);

        int limit = Math.min(readable, V1_MAX_LENGTH);
        int cr = -1;
        for (int i = 0; i < limit; i++) {
            byte b = in.getByte(start + i);
            if (b == '\n') {
                throw new ProxyProtocolException(PRX_BAD_HDR,
                        "lone LF at offset " + i + " (a v1 line ends with CRLF only)");
            }
            if (b == '\r') {
                if (i + 1 >= V1_MAX_LENGTH) {
                    break;
                }
                if (i + 1 >= readable) {
                    return null;
                }
                if (in.getByte(start + i + 1) != '\n') {
                    throw new ProxyProtocolException(PRX_BAD_HDR, String.format(
                            "lone CR at offset %d followed by %s (a v1 line ends with CRLF only)",
                            i, ch(in.getByte(start + i + 1))));
                }
                cr = i;
                break;
            }
        }
        if (cr < 0) {
            if (readable >= V1_MAX_LENGTH) {
                throw new ProxyProtocolException(PRX_TOO_LONG,
                        "no CRLF within the first " + V1_MAX_LENGTH + " bytes of the v1 line");
            }
            return null;
        }
        String rest = in.toString(start + V1_PREFIX.length, cr - V1_PREFIX.length, StandardCharsets.ISO_8859_1);
        ProxyHeader header = parseLine(rest);
        in.skipBytes(cr + 2);
        return header;
    }

    /** Rejects an unknown protocol token as soon as its first bytes arrive (spec 2.1: abort early). */
    private static void checkProtocolPrefix(ByteBuf in, int start, int readable) {
        int available = readable - V1_PREFIX.length;
        if (available <= 0) {
            return;
        }
        for (String protocol : PROTOCOLS) {
            int n = Math.min(available, protocol.length());
            boolean match = true;
            for (int i = 0; i < n && match; i++) {
                match = in.getByte(start + V1_PREFIX.length + i) == protocol.charAt(i);
            }
            if (match) {
                return;
            }
        }
        int end = Math.min(readable, V1_PREFIX.length + 8);
        throw new ProxyProtocolException(PRX_BAD_PROTO, "v1 protocol starting \""
                + printable(in.toString(start + V1_PREFIX.length, end - V1_PREFIX.length, StandardCharsets.ISO_8859_1))
                + "\" is not TCP4, TCP6 or UNKNOWN");
    }

    private static ProxyHeader parseLine(String rest) {
        if (rest.startsWith(UNKNOWN)) {
            // 2.1: for UNKNOWN the receiver must ignore anything before the CRLF.
            if (rest.length() > UNKNOWN.length() && rest.charAt(UNKNOWN.length()) != ' ') {
                throw new ProxyProtocolException(PRX_BAD_PROTO,
                        "v1 protocol \"" + printable(rest.split(" ", 2)[0]) + "\" is not TCP4, TCP6 or UNKNOWN");
            }
            return new ProxyHeader(ProxyVersion.V1, ProxyCommand.PROXY, AddressFamily.UNSPEC,
                    TransportProtocol.UNSPEC, null, null, null, null, List.of());
        }
        boolean v4 = rest.startsWith("TCP4 ");
        // checkProtocolPrefix has ruled out anything but "TCP4 " and "TCP6 " by now.
        String[] fields = rest.substring(5).split(" ", -1);
        if (fields.length != 4) {
            throw new ProxyProtocolException(PRX_BAD_HDR, "v1 line \"PROXY " + printable(rest) + "\" has "
                    + fields.length + " space-separated field(s) after the protocol (expected 4: src dst sport dport)");
        }
        InetAddress src = v4 ? ipv4(fields[0], "source") : ipv6(fields[0], "source");
        InetAddress dst = v4 ? ipv4(fields[1], "destination") : ipv6(fields[1], "destination");
        int sport = port(fields[2], "source");
        int dport = port(fields[3], "destination");
        return new ProxyHeader(ProxyVersion.V1, ProxyCommand.PROXY, v4 ? AddressFamily.INET : AddressFamily.INET6,
                TransportProtocol.STREAM, new InetSocketAddress(src, sport), new InetSocketAddress(dst, dport),
                null, null, List.of());
    }

    /** 2.1: exactly 4 decimal integers in [0..255], single dots, no heading zeroes. */
    private static InetAddress ipv4(String text, String what) {
        byte[] bytes = parseIpv4(text);
        if (bytes == null) {
            throw new ProxyProtocolException(PRX_BAD_ADDR, "v1 " + what + " address \"" + printable(text)
                    + "\" is not a dotted-quad IPv4 address without heading zeroes");
        }
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("4 bytes are always a valid IPv4 address", e);
        }
    }

    private static InetAddress ipv6(String text, String what) {
        byte[] bytes = parseIpv6(text);
        if (bytes == null) {
            throw new ProxyProtocolException(PRX_BAD_ADDR, "v1 " + what + " address \"" + printable(text)
                    + "\" is not an IPv6 address of 1-4 hex digit groups with at most one \"::\"");
        }
        return ProxyHeader.inet6(bytes);
    }

    /** 2.1: decimal in [0..65535], no heading zeroes. */
    private static int port(String text, String what) {
        boolean valid = !text.isEmpty() && text.length() <= PORT_MAX_DIGITS && (text.length() == 1 || text.charAt(0) != '0');
        int value = 0;
        for (int i = 0; valid && i < text.length(); i++) {
            char c = text.charAt(i);
            valid = c >= '0' && c <= '9';
            value = value * 10 + (c - '0');
        }
        if (!valid || value > 0xFFFF) {
            throw new ProxyProtocolException(PRX_BAD_PORT, "v1 " + what + " port \"" + printable(text)
                    + "\" is not a decimal integer in [0..65535] without heading zeroes");
        }
        return value;
    }

    static byte[] parseIpv4(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length != 4) {
            return null;
        }
        byte[] out = new byte[4];
        for (int i = 0; i < 4; i++) {
            String part = parts[i];
            if (part.isEmpty() || part.length() > 3 || part.length() > 1 && part.charAt(0) == '0') {
                return null;
            }
            int value = 0;
            for (int j = 0; j < part.length(); j++) {
                char c = part.charAt(j);
                if (c < '0' || c > '9') {
                    return null;
                }
                value = value * 10 + (c - '0');
            }
            if (value > 255) {
                return null;
            }
            out[i] = (byte) value;
        }
        return out;
    }

    /**
     * 2.1: groups of 1-4 hex digits separated by colons, one "::" at most, 128 bits in total. As
     * inet_pton (what HAProxy uses) does, a trailing dotted quad is accepted for the last 32 bits.
     */
    static byte[] parseIpv6(String text) {
        if (text.isEmpty() || text.length() > 45) {
            return null;
        }
        int doubleColon = text.indexOf("::");
        if (doubleColon < 0) {
            byte[] all = groups(text, true);
            return all != null && all.length == 16 ? all : null;
        }
        if (text.indexOf("::", doubleColon + 1) >= 0) {
            return null;
        }
        byte[] head = groups(text.substring(0, doubleColon), false);
        byte[] tail = groups(text.substring(doubleColon + 2), true);
        if (head == null || tail == null || head.length + tail.length > 14) {
            // "::" stands for at least one zero group.
            return null;
        }
        byte[] out = new byte[16];
        System.arraycopy(head, 0, out, 0, head.length);
        System.arraycopy(tail, 0, out, 16 - tail.length, tail.length);
        return out;
    }

    /** Colon-separated hex groups (possibly none); the last may be a dotted quad if allowed. */
    private static byte[] groups(String text, boolean allowDottedQuad) {
        if (text.isEmpty()) {
            return new byte[0];
        }
        String[] parts = text.split(":", -1);
        byte[] out = new byte[parts.length * 2 + 2];
        int length = 0;
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i];
            if (i == parts.length - 1 && allowDottedQuad && part.indexOf('.') >= 0) {
                byte[] v4 = parseIpv4(part);
                if (v4 == null) {
                    return null;
                }
                System.arraycopy(v4, 0, out, length, 4);
                length += 4;
                continue;
            }
            if (part.isEmpty() || part.length() > 4) {
                return null;
            }
            int value = 0;
            for (int j = 0; j < part.length(); j++) {
                int digit = hexDigit(part.charAt(j));
                if (digit < 0) {
                    return null;
                }
                value = value << 4 | digit;
            }
            out[length++] = (byte) (value >>> 8);
            out[length++] = (byte) value;
        }
        return Arrays.copyOf(out, length);
    }

    /** ASCII only: Character.digit would also take other scripts' digits. */
    private static int hexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    private static String ch(byte b) {
        return b >= 0x20 && b < 0x7F ? String.format("'%c'", (char) b) : String.format("0x%02X", b & 0xFF);
    }

    /** Keeps log lines single-line and ASCII whatever a peer sent. */
    private static String printable(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7F) {
                sb.append(c);
            } else {
                sb.append(String.format("\\x%02X", (int) c));
            }
        }
        return sb.toString();
    }
}
