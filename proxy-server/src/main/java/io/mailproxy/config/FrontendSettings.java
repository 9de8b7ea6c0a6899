package io.mailproxy.config;

import io.mailproxy.mail.MailProtocol;
import java.time.Duration;
import java.util.List;

/**
 * What one frontend listens on, speaks and hands its sessions to.
 *
 * @param acceptProxy the PROXY header every client must send first, or null when the frontend
 *     accepts none (then one is never looked for: the spec forbids guessing)
 * @param maxConnections the most sessions of this frontend at once, 0 = no limit; above it new
 *     connections wait in the kernel's backlog
 * @param rateLimitPerSource the most new connections one client address may open in a sliding
 *     window, or null: no limit
 * @param maxConnectionsPerSource the most connections one client address may hold at once, 0 = no limit
 * @param sourceIpv6Prefix the prefix length by which IPv6 client addresses are grouped for the
 *     per-source limits
 * @param clientFinTimeout while a session closes, how long the client may take nothing of what is left
 * @param shutdownGrace how long a stop lets this frontend's sessions end by themselves
 */
public record FrontendSettings(String name, List<BindAddress> bind, MailProtocol protocol, TlsSettings tls,
                               String backend, Duration idleTimeout, AcceptProxySettings acceptProxy,
                               int maxConnections, RateLimit rateLimitPerSource, int maxConnectionsPerSource,
                               int sourceIpv6Prefix, Duration clientFinTimeout, Duration shutdownGrace) {
    public FrontendSettings {
        bind = List.copyOf(bind);
        if (bind.isEmpty()) {
            throw new IllegalArgumentException("a frontend needs at least one bind address");
        }
        if (maxConnectionsPerSource < 0 || sourceIpv6Prefix < 1 || sourceIpv6Prefix > 128) {
            throw new IllegalArgumentException("max-connections-per-source or source-ipv6-prefix out of range");
        }
        if (maxConnections < 0) {
            throw new IllegalArgumentException("max-connections must not be negative");
        }
    }
}
