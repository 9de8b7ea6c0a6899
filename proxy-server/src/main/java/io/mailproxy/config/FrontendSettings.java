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
 */
public record FrontendSettings(String name, List<BindAddress> bind, MailProtocol protocol, TlsSettings tls,
                               String backend, Duration idleTimeout, AcceptProxySettings acceptProxy,
                               int maxConnections, RateLimit rateLimitPerSource) {
    public FrontendSettings {
        bind = List.copyOf(bind);
        if (bind.isEmpty()) {
            throw new IllegalArgumentException("a frontend needs at least one bind address");
        }
        if (maxConnections < 0) {
            throw new IllegalArgumentException("max-connections must not be negative");
        }
    }
}
