package io.mailproxy.balance;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;

/**
 * The server with the lowest {@link Candidate#load()} (its sessions, and its queue once there is one)
 * relative to its weight; ties go round robin so that an idle pool still spreads its first
 * sessions. Sessions count from the connection attempt, so a burst of new sessions does not all
 * land on the same server before any connects.
 */
final class LeastConn<S extends Candidate> implements Balancer<S> {

    private final List<S> servers;
    private final boolean allBackups;
    private int next;

    LeastConn(List<S> servers, boolean allBackups) {
        this.servers = List.copyOf(servers);
        this.allBackups = allBackups;
    }

    @Override
    public synchronized S pick(InetSocketAddress client, Set<S> exclude) {
        int n = servers.size();
        S best = null;
        int bestIndex = -1;
        Tier<S> tier = Tier.of(servers, allBackups);
        for (int k = 0; k < n; k++) {
            int i = (next + k) % n;
            S s = servers.get(i);
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
