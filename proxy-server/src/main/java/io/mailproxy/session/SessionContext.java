package io.mailproxy.session;

import io.mailproxy.backend.Backend;
import io.mailproxy.backend.BackendConnector;
import io.mailproxy.config.FrontendSettings;
import io.mailproxy.limit.RateLimiter;
import io.mailproxy.limit.SourceLimiter;
import io.mailproxy.stats.Statistics;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What every session of one frontend shares: its settings, its backend, the counters and limits it
 * is counted in, and the registry of live sessions.
 *
 * @param processActive sessions of the whole process that have not ended
 * @param frontendActive sessions of this frontend that have not ended
 * @param sources {@code max-connections-per-source}, or null
 * @param rates {@code rate-limit-per-source}, or null
 * @param statistics the proxy's counters, which the session counts itself in
 */
public record SessionContext(FrontendSettings frontend, Backend backend, BackendConnector connector,
                             AtomicInteger processActive, AtomicInteger frontendActive,
                             SourceLimiter sources, RateLimiter rates, Sessions registry, Statistics statistics) {
}
