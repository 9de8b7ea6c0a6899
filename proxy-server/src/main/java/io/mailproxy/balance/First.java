package io.mailproxy.balance;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;

/**
 * HAProxy's {@code first}: the first server in configuration order with a free slot (below its
 * {@code max-connections}), so that as few servers as possible are busy and the others can be
 * powered down. Weights are ignored (except that weight 0 is not usable). A server without
 * {@code max-connections} is never full: it takes every session until it goes DOWN.
 *
 * <p>Stateless: reads only the servers' volatile states, hence no lock.
 */
final class First<S extends Candidate> implements Balancer<S> {

    private final List<S> servers;
    private final boolean allBackups;

    First(List<S> servers, boolean allBackups) {
        this.servers = List.copyOf(servers);
        this.allBackups = allBackups;
    }

    @Override
    public S pick(InetSocketAddress client, Set<S> exclude) {
        Tier<S> tier = Tier.of(servers, allBackups);
        for (S s : servers) {
            if (tier.admits(s) && !exclude.contains(s) && s.hasFreeSlot()) {
                return s;
            }
        }
        return null;
    }
}
