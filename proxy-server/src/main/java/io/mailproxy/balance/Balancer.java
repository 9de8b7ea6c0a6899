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
     * The server for the next session among those with a weight above zero and not in
     * {@code exclude} (servers already tried by this session), or null when none is left.
     */
    Server pick(Set<Server> exclude);

    /** The balancer for {@code algorithm} over {@code servers}. */
    static Balancer of(io.mailproxy.config.Balance algorithm, List<Server> servers) {
        return switch (algorithm) {
            case ROUNDROBIN -> new RoundRobin(servers);
            case LEASTCONN -> new LeastConn(servers);
        };
    }
}
