package io.mailproxy.config;

import io.mailproxy.mail.MailProtocol;
import java.time.Duration;
import java.util.List;

/**
 * What one frontend listens on, speaks and hands its sessions to.
 *
 * @param acceptProxy the PROXY header every client must send first, or null when the frontend
 *     accepts none (then one is never looked for: the spec forbids guessing)
 */
public record FrontendSettings(String name, List<BindAddress> bind, MailProtocol protocol, TlsSettings tls,
                               String backend, Duration idleTimeout, AcceptProxySettings acceptProxy) {
    public FrontendSettings {
        bind = List.copyOf(bind);
        if (bind.isEmpty()) {
            throw new IllegalArgumentException("a frontend needs at least one bind address");
        }
    }
}
