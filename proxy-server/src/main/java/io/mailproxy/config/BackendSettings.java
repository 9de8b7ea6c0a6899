package io.mailproxy.config;

import java.time.Duration;
import java.util.List;

/** A pool of servers and how sessions are placed on them. */
public record BackendSettings(String name, Balance balance, SendProxy sendProxy, int retries,
                              Duration connectTimeout, List<ServerSettings> servers) {
    public BackendSettings {
        servers = List.copyOf(servers);
        if (servers.isEmpty()) {
            throw new IllegalArgumentException("a backend needs at least one server");
        }
        if (retries < 0) {
            throw new IllegalArgumentException("retries must not be negative");
        }
    }
}
