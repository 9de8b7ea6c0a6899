package io.mailproxy.balance;

import io.mailproxy.backend.Server;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;

/**
 * The server with the lowest {@link Server#load()} (its sessions, and its queue once there is one)
 * relative to its weight; ties go round robin so that an idle pool still spreads its first
 * sessions. Sessions count from the connection attempt, so a burst of new sessions does not all
 * land on the same server before any connects.
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
    public synchronized Server pick(InetSocketAddress client, Set<Server> exclude) {
        int n = servers.size();
        Server best = null;
        int bestIndex = -1;
        Tier tier = Tier.of(servers, allBackups);
        for (int k = 0; k < n; k++) {
            int i = (next + k) % n;
            Server s = servers.get(i);
            if (!tier.admits(s) || exclude.contains(s)) {
                continue;
            }
            // load/weight < best.load/best.weight, cross-multiplied: exact, where a scaled integer
            // division would round nearly equal loads into false ties.
            if (best == null || (long) s.load() * best.weight() < (long) best.load() * s.weight()) {
                best = s;
                bestIndex = i;
            }
        }
        if (best != null) {
            next = (bestIndex + 1) % n;
        }
        return best;
    }
}
