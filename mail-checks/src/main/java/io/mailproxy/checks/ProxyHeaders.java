package io.mailproxy.checks;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import java.net.Inet4Address;
import java.net.InetSocketAddress;

/**
 * The PROXY header a check sends first. Everything that knows the header's format is here, on
 * Netty's codec-haproxy for now, so that the project's own proxy-protocol module can replace it
 * by changing this class only.
 */
final class ProxyHeaders {

    private ProxyHeaders() {
    }

    /** Adds the handlers that send the header chosen, if any, at the head of {@code pipeline}. */
    static void install(ChannelPipeline pipeline, CheckProxyHeader header) {
        if (header == CheckProxyHeader.NONE) {
            return;
        }
        pipeline.addLast(CheckPipeline.PROXY_ENCODER, HAProxyMessageEncoder.INSTANCE);
        pipeline.addLast(CheckPipeline.PROXY_HEADER, new Sender(header));
    }

    /** The header for a check connection; V2 carries the connection's own addresses. */
    static HAProxyMessage message(CheckProxyHeader header, Channel channel) {
        if (header == CheckProxyHeader.LOCAL) {
            return new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.LOCAL,
                    HAProxyProxiedProtocol.UNKNOWN, null, null, 0, 0);
        }
        InetSocketAddress source = (InetSocketAddress) channel.localAddress();
        InetSocketAddress destination = (InetSocketAddress) channel.remoteAddress();
        HAProxyProxiedProtocol protocol = source.getAddress() instanceof Inet4Address
                ? HAProxyProxiedProtocol.TCP4 : HAProxyProxiedProtocol.TCP6;
        return new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY, protocol,
                hostAddress(source), hostAddress(destination), source.getPort(), destination.getPort());
    }

    /** The literal address without an IPv6 scope ({@code %eth0}), which the header cannot carry. */
    private static String hostAddress(InetSocketAddress address) {
        String host = address.getAddress().getHostAddress();
        int scope = host.indexOf('%');
        return scope < 0 ? host : host.substring(0, scope);
    }

    /** Writes the header when the connection is up, ahead of TLS, then leaves the pipeline. */
    private static final class Sender extends ChannelInboundHandlerAdapter {
        private final CheckProxyHeader header;

        Sender(CheckProxyHeader header) {
            this.header = header;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            // written from this context, the header passes only the encoder: it precedes the TLS hello
            ctx.writeAndFlush(message(header, ctx.channel()));
            ctx.pipeline().remove(CheckPipeline.PROXY_ENCODER);
            ctx.pipeline().remove(this);
            ctx.fireChannelActive();
        }
    }
}
