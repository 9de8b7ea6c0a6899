package io.mailproxy.frontend;

import io.mailproxy.log.Termination;
import io.netty.channel.ChannelPipeline;
import java.net.InetSocketAddress;

/** What the accept-proxy handlers report to their frontend. */
interface AcceptProxyEvents {

    /** The header is in: add the session's handlers at the end of {@code pipeline}. */
    void accepted(ChannelPipeline pipeline, InboundAddresses addresses);

    /**
     * The connection ends before it became a session: log its one line.
     *
     * @param peer the socket's peer (no header was accepted, so no other address is known)
     * @param acceptedAtMillis when the connection was accepted (epoch ms)
     * @param elapsedMillis how long it lived
     */
    void refused(InetSocketAddress peer, long acceptedAtMillis, long elapsedMillis, Termination reason, String detail);
}
