package io.mailproxy.balance;

import io.mailproxy.backend.Server;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;

/**
 * HAProxy's {@code first}: the first server in configuration order that may take a session, so
 * that as few servers as possible are busy and the others can be powered down. Weights are ignored
 * (except that weight 0 is not usable).
 *
 * <p>HAProxy moves to the next server once one reaches its {@code maxconn}. Servers have no
 * connection limit yet, so here the first usable server takes every session until it goes DOWN;
 * the limit check belongs in this scan once servers get {@code max-connections}.
 *
 * <p>Stateless: reads only the servers' volatile states, hence no lock.
 */
final class First implements Balancer {

    private final List<Server> servers;
    private final boolean allBackups;

    First(List<Server> servers, boolean allBackups) {
        this.servers = List.copyOf(servers);
        this.allBackups = allBackups;
    }

    @Override
    public Server pick(InetSocketAddress client, Set<Server> exclude) {
        Tier tier = Tier.of(servers, allBackups);
        for (Server s : servers) {
            if (tier.admits(s) && !exclude.contains(s)) {
                return s;
            }
        }
        return null;
    }
}
