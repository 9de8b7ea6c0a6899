package io.mailproxy.session;

import io.mailproxy.proxyprotocol.ProxyCommand;
import io.mailproxy.proxyprotocol.ProxyHeader;
import java.net.InetSocketAddress;

/**
 * Who a client is once a trusted PROXY header has been read.
 *
 * @param client the original client: the header's source, or the socket's peer for LOCAL, v1
 *     UNKNOWN, UNSPEC and UNIX headers
 * @param destination the address the client connected to: the header's destination, or the
 *     socket's local address in the same cases
 * @param header the header as received (its TLVs may be passed on)
 */
public record InboundAddresses(InetSocketAddress client, InetSocketAddress destination, ProxyHeader header) {

    /**
     * The addresses a session uses after {@code header} arrived on a socket between {@code peer}
     * and {@code local}. LOCAL (a balancer's own health check) and headers without IP addresses
     * keep the socket's, as HAProxy and Dovecot do.
     */
    public static InboundAddresses of(ProxyHeader header, InetSocketAddress peer, InetSocketAddress local) {
        if (header.command() == ProxyCommand.LOCAL || header.sourceAddress() == null
                || header.destinationAddress() == null) {
            return new InboundAddresses(peer, local, header);
        }
        return new InboundAddresses(header.sourceAddress(), header.destinationAddress(), header);
    }
}
