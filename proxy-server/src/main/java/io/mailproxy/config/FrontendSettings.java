package io.mailproxy.config;

import io.mailproxy.mail.MailProtocol;
import java.time.Duration;
import java.util.List;

/** What one frontend listens on, speaks and hands its sessions to. */
public record FrontendSettings(String name, List<BindAddress> bind, MailProtocol protocol, TlsSettings tls,
                               String backend, Duration idleTimeout) {
    public FrontendSettings {
        bind = List.copyOf(bind);
        if (bind.isEmpty()) {
            throw new IllegalArgumentException("a frontend needs at least one bind address");
        }
    }
}
