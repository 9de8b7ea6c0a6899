package io.mailproxy.config;

import io.mailproxy.proxyprotocol.ProxyProtocolDecoder;
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

    /**
     * A frontend's {@code accept-proxy} section: null unless enabled. Every key is read either way,
     * so that a bad value is reported before the section is switched on.
     */
    static AcceptProxySettings read(ConfigReader r) {
        boolean enabled = r.bool("enabled");
        if (!enabled && !r.writtenKeys().isEmpty() && !r.written("enabled")) {
            // A block without `enabled` reads as "require the header": do not silently ignore it.
            r.problem("enabled", "accept-proxy is configured but not enabled; add enabled = true (or enabled = false to keep it off)");
        }
        List<Cidr> trustedNetworks = r.strings("trusted-networks", Cidr::parse);
        Duration timeout = r.duration("timeout");
        int maxHeaderSize = r.intIn("max-header-size", ProxyProtocolDecoder.MIN_MAX_HEADER_SIZE,
                ProxyProtocolDecoder.MAX_MAX_HEADER_SIZE);
        boolean forwardSsl = r.bool("forward-ssl");
        return enabled ? new AcceptProxySettings(trustedNetworks, timeout, maxHeaderSize, forwardSsl) : null;
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
