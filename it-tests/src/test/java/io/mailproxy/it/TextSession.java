package io.mailproxy.it;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.handler.codec.haproxy.HAProxySSLTLV;
import io.netty.handler.codec.haproxy.HAProxyTLV;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link LineClient} straight to Dovecot for IMAP, POP3 and LMTP tests, optionally sending a PROXY
 * header first (built here, with Netty's encoder, as a proxy would send it).
 */
final class TextSession extends LineClient {

    /** PP2_CLIENT_SSL: the client connected over TLS. */
    private static final byte PP2_CLIENT_SSL = 0x01;

    private TextSession(Socket socket) throws IOException {
        super(socket);
    }

    static TextSession open(String host, int port, byte[] header) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress(host, port), 2000);
        socket.setSoTimeout(15_000);
        TextSession session = new TextSession(socket);
        if (header.length > 0) {
            session.write(header);
        }
        return session;
    }

    /** A v2 PROXY header for TCP4, optionally with an SSL TLV (client=0x01, verify=0, VERSION "TLSv1.3"). */
    static byte[] v2(String src, int srcPort, String dst, int dstPort, boolean sslTlv) {
        return v2(src, srcPort, dst, dstPort, sslTlv, null, null);
    }

    /** As {@link #v2(String, int, String, int, boolean)}, plus ALPN and AUTHORITY TLVs where not null. */
    static byte[] v2(String src, int srcPort, String dst, int dstPort, boolean sslTlv, String alpn, String authority) {
        List<HAProxyTLV> tlvs = new ArrayList<>();
        if (alpn != null) {
            tlvs.add(new HAProxyTLV(HAProxyTLV.Type.PP2_TYPE_ALPN, Unpooled.copiedBuffer(alpn, StandardCharsets.US_ASCII)));
        }
        if (authority != null) {
            tlvs.add(new HAProxyTLV(HAProxyTLV.Type.PP2_TYPE_AUTHORITY,
                    Unpooled.copiedBuffer(authority, StandardCharsets.US_ASCII)));
        }
        if (sslTlv) {
            HAProxyTLV version = new HAProxyTLV(HAProxyTLV.Type.PP2_TYPE_SSL_VERSION,
                    Unpooled.copiedBuffer("TLSv1.3", StandardCharsets.US_ASCII));
            tlvs.add(new HAProxySSLTLV(0, PP2_CLIENT_SSL, List.of(version)));
        }
        return encode(new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY,
                HAProxyProxiedProtocol.TCP4, src, dst, srcPort, dstPort, tlvs), tlvs);
    }

    /** A v2 LOCAL header, as a load balancer's health check sends. */
    static byte[] v2Local() {
        return encode(new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.LOCAL,
                HAProxyProxiedProtocol.UNKNOWN, null, null, 0, 0), List.of());
    }

    private static byte[] encode(HAProxyMessage message, List<HAProxyTLV> tlvs) {
        EmbeddedChannel channel = new EmbeddedChannel(HAProxyMessageEncoder.INSTANCE);
        try {
            channel.writeOutbound(message);
            ByteBuf encoded = channel.readOutbound();
            try {
                return ByteBufUtil.getBytes(encoded);
            } finally {
                encoded.release();
            }
        } finally {
            channel.finishAndReleaseAll();
            // Releasing the message does not release the TLVs we built (checked: refCnt stays 1 for the
            // SSL TLV and its VERSION sub-TLV after encoding), so the leak guard would see them.
            for (HAProxyTLV tlv : tlvs) {
                if (tlv instanceof HAProxySSLTLV ssl) {
                    ssl.encapsulatedTLVs().stream().filter(t -> t.refCnt() > 0).forEach(HAProxyTLV::release);
                }
                if (tlv.refCnt() > 0) {
                    tlv.release();
                }
            }
        }
    }

    /** Reads until the connection closes; returns what came, or the exception's text if it was reset. */
    String readRest() {
        try {
            return new String(readToEnd(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "<" + e.getMessage() + ">";
        }
    }

    /** As {@link #imap}, but a server that closes (or resets) the connection first gives an empty list. */
    List<String> imapOrEnd(String tag, String command) {
        try {
            return imap(tag, command);
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Sends a command and returns the one-line reply (POP3, LMTP without multi-line replies). */
    String command(String line) throws IOException {
        send(line);
        return readLine();
    }

    /** Sends LMTP LHLO and returns the last line of the multi-line reply. */
    String lhlo(String host) throws IOException {
        send("LHLO " + host);
        String line;
        while ((line = readLine()) != null && line.startsWith("250-")) {
            // capability lines
        }
        return line;
    }
}
