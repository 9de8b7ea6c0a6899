package io.mailproxy.config;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;

/**
 * A frontend that requires a PROXY protocol header (HAProxy's bind option {@code accept-proxy},
 * Dovecot's {@code haproxy = yes}): who may send it, how long it may take and how large it may be.
 *
 * @param trustedNetworks peers allowed to connect at all; empty = nobody
 * @param timeout the whole header must arrive within this time after the connection is accepted
 * @param maxHeaderSize the largest v2 header accepted, in bytes (a v1 line is always at most 107)
 * @param forwardSsl whether a plaintext frontend passes the SSL TLV of the inbound header on to the
 *     servers (when the backend sends one), so that TLS terminated upstream still counts as TLS
 */
public record AcceptProxySettings(List<Cidr> trustedNetworks, Duration timeout, int maxHeaderSize, boolean forwardSsl) {

    public AcceptProxySettings {
        trustedNetworks = List.copyOf(trustedNetworks);
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the header timeout must be positive");
        }
    }

    /** True when {@code peer} lies in one of the trusted networks. */
    public boolean trusts(InetAddress peer) {
        for (Cidr c : trustedNetworks) {
            if (c.contains(peer)) {
                return true;
            }
        }
        return false;
    }
}
