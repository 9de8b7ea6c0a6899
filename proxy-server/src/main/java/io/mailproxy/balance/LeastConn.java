package io.mailproxy.balance;

import io.mailproxy.backend.Server;
import java.util.List;
import java.util.Set;

/**
 * The server with the fewest active sessions relative to its weight; ties go round robin so that
 * an idle pool still spreads its first sessions. Active sessions count from the connection attempt,
 * so a burst of new sessions does not all land on the same server before any connects.
 */
final class LeastConn implements Balancer {

    private final List<Server> servers;
    private final boolean allBackups;
    private int next;

    LeastConn(List<Server> servers, boolean allBackups) {
        this.servers = List.copyOf(servers);
        this.allBackups = allBackups;
    }

    @Override
    public synchronized Server pick(Set<Server> exclude) {
        int n = servers.size();
        Server best = null;
        long bestLoad = Long.MAX_VALUE;
        int bestIndex = -1;
        Tier tier = Tier.of(servers, allBackups);
        for (int k = 0; k < n; k++) {
            int i = (next + k) % n;
            Server s = servers.get(i);
            if (!tier.admits(s) || exclude.contains(s)) {
                continue;
            }
            // Compare active/weight without division: scale by the largest weight (256).
            long load = (long) s.activeSessions() * 256 / s.weight();
            if (load < bestLoad) {
                best = s;
                bestLoad = load;
                bestIndex = i;
            }
        }
        if (best != null) {
            next = (bestIndex + 1) % n;
        }
        return best;
    }
}
