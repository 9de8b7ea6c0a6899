package io.mailproxy.tls;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.handler.ssl.SslClientHelloHandler;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;

/**
 * Reads the client's ClientHello, chooses the certificate (by SNI name, ECDSA or RSA by what the
 * client can verify) and replaces itself with the {@link SslHandler} of that certificate's context,
 * with its OCSP response attached. Then fires {@link SniCompletionEvent} with the name exactly as
 * sent (which may be no host name: whoever logs it or passes it on must check).
 *
 * <p>A ClientHello larger than {@link #MAX_CLIENT_HELLO} or bytes that are not TLS end the
 * handshake as Netty's SNI handler does: a failed {@code SslHandshakeCompletionEvent}.
 */
final class CertificateSelector extends SslClientHelloHandler<Certificates.Entry> {

    /** The largest ClientHello accepted; a larger one is a broken or hostile client. */
    static final int MAX_CLIENT_HELLO = 16 * 1024;

    private final Certificates certificates;
    private final long handshakeTimeoutMillis;
    private ClientHello hello = ClientHello.UNREADABLE;

    CertificateSelector(Certificates certificates, long handshakeTimeoutMillis) {
        super(MAX_CLIENT_HELLO);
        this.certificates = certificates;
        this.handshakeTimeoutMillis = handshakeTimeoutMillis;
    }

    @Override
    protected Future<Certificates.Entry> lookup(ChannelHandlerContext ctx, ByteBuf clientHello) {
        hello = clientHello == null ? ClientHello.UNREADABLE : ClientHello.parse(clientHello);
        return ctx.executor().newSucceededFuture(certificates.select(hello));
    }

    @Override
    protected void onLookupComplete(ChannelHandlerContext ctx, Future<Certificates.Entry> future) {
        Certificates.Entry entry = future.getNow();
        SslHandler handler = entry.context().newHandler(ctx.alloc());
        try {
            handler.setHandshakeTimeoutMillis(handshakeTimeoutMillis);
            byte[] ocsp = entry.staple() == null ? null : entry.staple().response();
            if (ocsp != null && handler.engine() instanceof ReferenceCountedOpenSslEngine engine) {
                engine.setOcspResponse(ocsp);
            }
            ctx.pipeline().replace(this, ctx.name(), handler);
            handler = null;
        } finally {
            if (handler != null) {
                // not in the pipeline: the engine is still ours to free
                ReferenceCountUtil.safeRelease(handler.engine());
            }
        }
        ctx.fireUserEventTriggered(new SniCompletionEvent(hello.serverName()));
    }
}
