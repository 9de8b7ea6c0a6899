package io.mailproxy.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A pool of servers and how sessions are placed on them.
 *
 * @param allBackups     with no normal server usable: spread over every usable backup, not only the first
 * @param onMarkedDown   what happens to a server's sessions when its health check marks it DOWN
 * @param healthCheck    how the servers are checked ({@link HealthCheckSettings.Type#NONE}: not at all)
 * @param proxyV2Options what a v2 PROXY header carries beyond the default (HAProxy's {@code proxy-v2-options})
 */
public record BackendSettings(String name, Balance balance, SendProxy sendProxy, int retries,
                              Duration connectTimeout, List<ServerSettings> servers,
                              boolean allBackups, OnMarkedDown onMarkedDown, HealthCheckSettings healthCheck,
                              Set<ProxyV2Option> proxyV2Options) {
    public BackendSettings {
        servers = List.copyOf(servers);
        proxyV2Options = Set.copyOf(proxyV2Options);
        Objects.requireNonNull(onMarkedDown, "onMarkedDown");
        Objects.requireNonNull(healthCheck, "healthCheck");
        if (servers.isEmpty()) {
            throw new IllegalArgumentException("a backend needs at least one server");
        }
        if (retries < 0) {
            throw new IllegalArgumentException("retries must not be negative");
        }
    }
}
