package io.mailproxy.balance;

import io.mailproxy.backend.Server;
import java.util.List;
import java.util.Set;

/**
 * Chooses the server for a new session. Called from any event loop, so implementations are
 * thread-safe; a pick is short (a scan of the servers) and never blocks.
 */
public interface Balancer {

    /**
     * The server for the next session among the usable ones (UP, weight above zero) of the tier in
     * use and not in {@code exclude} (servers already tried by this session), or null when none is
     * left. The tier is the normal servers while one of them is usable, else the backups (see
     * {@link Tier}).
     */
    Server pick(Set<Server> exclude);

    /** The balancer for {@code algorithm} over {@code servers}, using only the first usable backup. */
    static Balancer of(io.mailproxy.config.Balance algorithm, List<Server> servers) {
        return of(algorithm, servers, false);
    }

    /**
     * The balancer for {@code algorithm} over {@code servers} (in configuration order);
     * {@code allBackups} spreads over every usable backup instead of the first one.
     */
    static Balancer of(io.mailproxy.config.Balance algorithm, List<Server> servers, boolean allBackups) {
        return switch (algorithm) {
            case ROUNDROBIN -> new RoundRobin(servers, allBackups);
            case LEASTCONN -> new LeastConn(servers, allBackups);
        };
    }
}
