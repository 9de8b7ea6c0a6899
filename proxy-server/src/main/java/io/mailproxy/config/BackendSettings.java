package io.mailproxy.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A pool of servers and how sessions are placed on them.
 *
 * @param hashType       how {@link Balance#SOURCE} maps a client address hash to a server (HAProxy's {@code hash-type})
 * @param allBackups     with no normal server usable: spread over every usable backup, not only the first
 * @param onMarkedDown   what happens to a server's sessions when its health check marks it DOWN
 * @param healthCheck    how the servers are checked ({@link HealthCheckSettings.Type#NONE}: not at all)
 * @param proxyV2Options what a v2 PROXY header carries beyond the default (HAProxy's {@code proxy-v2-options})
 * @param stickTable     the stick table keeping each client address on one server, or null: none
 * @param redispatch     a session stuck to a server may make its last retry on another server
 * @param queueTimeout   the longest a session waits in the queue for a free connection slot
 * @param greetingTimeout how long a connected server may take to send its first bytes, or null: not awaited
 * @param serverFinTimeout after the client half-closed, or while closing, how long the server may stay silent
 */
public record BackendSettings(String name, Balance balance, HashType hashType, SendProxy sendProxy, int retries,
                              Duration connectTimeout, List<ServerSettings> servers,
                              boolean allBackups, OnMarkedDown onMarkedDown, HealthCheckSettings healthCheck,
                              Set<ProxyV2Option> proxyV2Options,
                              io.mailproxy.stick.StickTableSettings stickTable, boolean redispatch,
                              Duration queueTimeout, Duration greetingTimeout, Duration serverFinTimeout) {
    public BackendSettings {
        servers = List.copyOf(servers);
        proxyV2Options = Set.copyOf(proxyV2Options);
        Objects.requireNonNull(hashType, "hashType");
        Objects.requireNonNull(onMarkedDown, "onMarkedDown");
        Objects.requireNonNull(healthCheck, "healthCheck");
        Objects.requireNonNull(queueTimeout, "queueTimeout");
        Objects.requireNonNull(serverFinTimeout, "serverFinTimeout");
        if (servers.isEmpty()) {
            throw new IllegalArgumentException("a backend needs at least one server");
        }
        if (retries < 0) {
            throw new IllegalArgumentException("retries must not be negative");
        }
    }
}
