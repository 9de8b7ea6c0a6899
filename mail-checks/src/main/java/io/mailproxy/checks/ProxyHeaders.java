package io.mailproxy.checks;

import io.mailproxy.proxyprotocol.ProxyHeader;
import io.mailproxy.proxyprotocol.ProxyHeaderEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import java.net.InetSocketAddress;

/**
 * The PROXY header a check sends first. Everything that knows the header is here; the bytes come
 * from the project's proxy-protocol module ({@link ProxyHeaderEncoder#encodeV2}).
 */
final class ProxyHeaders {

    private ProxyHeaders() {
    }

    /** Adds the handler that sends the header chosen, if any, to {@code pipeline} (before TLS). */
    static void install(ChannelPipeline pipeline, CheckProxyHeader header) {
        if (header == CheckProxyHeader.NONE) {
            return;
        }
        pipeline.addLast(CheckPipeline.PROXY_HEADER, new Sender(header));
    }

    /** The header for a check connection; V2 carries the connection's own addresses. */
    static ProxyHeader header(CheckProxyHeader header, Channel channel) {
        if (header == CheckProxyHeader.LOCAL) {
            return ProxyHeader.local();
        }
        return ProxyHeader.proxy((InetSocketAddress) channel.localAddress(),
                (InetSocketAddress) channel.remoteAddress());
    }

    /** Writes the header when the connection is up, ahead of TLS, then leaves the pipeline. */
    private static final class Sender extends ChannelInboundHandlerAdapter {
        private final CheckProxyHeader header;

        Sender(CheckProxyHeader header) {
            this.header = header;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            // No CRC32C: Dovecot does not check it, and HAProxy's own check headers carry none.
            ByteBuf bytes = ProxyHeaderEncoder.encodeV2(header(header, ctx.channel()), ctx.alloc(), false);
            // written from this context, the header passes no handler: it precedes the TLS hello
            ctx.writeAndFlush(bytes);
            ctx.pipeline().remove(this);
            ctx.fireChannelActive();
        }
    }
}
