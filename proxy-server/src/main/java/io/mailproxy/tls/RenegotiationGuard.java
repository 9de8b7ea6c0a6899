package io.mailproxy.tls;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import javax.net.ssl.SSLException;

/**
 * Refuses client-initiated renegotiation (CVE-2009-3555, CVE-2011-1473: a client making the server
 * do handshake after handshake), the same way on every TLS engine, by reading the TLS record
 * headers the client sends before the engine gets them. BoringSSL refuses renegotiation itself; the
 * JDK's engine accepts it unless told otherwise process-wide; this guard makes both end the
 * session, logged {@code tls-renegotiation}.
 *
 * <p>The rule works on record types alone (RFC 5246 6.2.1, RFC 8446 5.1), the only part of a TLS
 * 1.2 record after the handshake that is not encrypted: a client's ChangeCipherSpec is followed by
 * exactly one handshake record, its Finished (in TLS 1.3 at most one, a second ClientHello after a
 * HelloRetryRequest, the rest being application_data records). A second handshake record after the
 * ChangeCipherSpec starts a new handshake. Once a TLS 1.3 handshake is done, where renegotiation
 * does not exist, the guard leaves the pipeline; for TLS 1.2 it stays, at the cost of reading five
 * bytes per record.
 */
public final class RenegotiationGuard extends ChannelInboundHandlerAdapter {

    private static final int CHANGE_CIPHER_SPEC = 20;
    private static final int HANDSHAKE = 22;
    private static final int HEARTBEAT = 24;
    private static final int HEADER = 5;

    /** The client started a second handshake. */
    public static final class RenegotiationRefused extends SSLException {
        RenegotiationRefused() {
            super("the client started a renegotiation, which mailproxy refuses");
        }
    }

    private final byte[] header = new byte[HEADER];
    private int headerBytes;
    /** Bytes of the current record's body still to come. */
    private int bodyLeft;
    private boolean changeCipherSpec;
    private int handshakeRecordsAfter;
    private boolean refused;
    private SslHandler tls;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (refused) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof ByteBuf in && !scan(in)) {
            refused = true;
            in.release();
            ctx.fireExceptionCaught(new RenegotiationRefused());
            ctx.close();
            return;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (tls == null) {
            tls = ctx.pipeline().get(SslHandler.class);
        }
        if (tls != null && tls.handshakeFuture().isSuccess() && "TLSv1.3".equals(tls.engine().getSession().getProtocol())) {
            ctx.pipeline().remove(this);
        }
        ctx.fireChannelReadComplete();
    }

    /** Follows the records in {@code in}; false when one starts a renegotiation. */
    private boolean scan(ByteBuf in) {
        int i = in.readerIndex();
        int end = in.writerIndex();
        while (i < end) {
            if (bodyLeft > 0) {
                int n = Math.min(bodyLeft, end - i);
                bodyLeft -= n;
                i += n;
                continue;
            }
            header[headerBytes++] = in.getByte(i++);
            if (headerBytes < HEADER) {
                continue;
            }
            headerBytes = 0;
            int type = header[0] & 0xFF;
            bodyLeft = (header[3] & 0xFF) << 8 | header[4] & 0xFF;
            if (type < CHANGE_CIPHER_SPEC || type > HEARTBEAT) {
                // Not TLS (or an SSLv2 hello): the engine refuses it; nothing left to follow.
                bodyLeft = Integer.MAX_VALUE;
                return true;
            }
            if (type == CHANGE_CIPHER_SPEC) {
                changeCipherSpec = true;
            } else if (type == HANDSHAKE && changeCipherSpec && ++handshakeRecordsAfter > 1) {
                return false;
            }
        }
        return true;
    }
}
