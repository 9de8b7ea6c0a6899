package io.mailproxy.balance;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;

/**
 * Weighted round robin, smooth: each pick adds every server's weight to its credit and takes the
 * server with the most credit, which then pays the total weight back. Over any window of
 * "total weight" picks each server gets exactly its weight, and the picks of a heavy server are
 * spread out rather than bunched (the algorithm nginx uses).
 */
final class RoundRobin<S extends Candidate> implements Balancer<S> {

    private final List<S> servers;
    private final int[] credit;
    private final boolean allBackups;

    RoundRobin(List<S> servers, boolean allBackups) {
        this.servers = List.copyOf(servers);
        this.credit = new int[servers.size()];
        this.allBackups = allBackups;
    }

    @Override
    public synchronized S pick(InetSocketAddress client, Set<S> exclude) {
        int total = 0;
        int best = -1;
        Tier<S> tier = Tier.of(servers, allBackups);
        for (int i = 0; i < servers.size(); i++) {
            S s = servers.get(i);
            int weight = s.weight();
            if (!tier.admits(s) || exclude.contains(s)) {
                continue;
            }
            credit[i] += weight;
            total += weight;
            if (best < 0 || credit[i] > credit[best]) {
                best = i;
            }
        }
        if (best < 0) {
            return null;
        }
        credit[best] -= total;
        return servers.get(best);
    }
}
