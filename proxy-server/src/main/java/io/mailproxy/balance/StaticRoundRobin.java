package io.mailproxy.balance;

import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * HAProxy's {@code static-rr}: a map holding each usable server of the tier as many times as its
 * weight, interleaved smoothly, read in a circle. The map is rebuilt only when the set of admitted
 * servers changes (a server going DOWN or coming back), so a returning server takes its full share
 * at once; there is no per-pick credit arithmetic as in {@link RoundRobin}.
 *
 * <p>With weights fixed at start-up the two give the same sequence while no server changes state;
 * they differ once runtime weight changes and slow starts exist, which only {@code roundrobin}
 * will follow (as in HAProxy). Servers tried by this session are skipped on the map.
 */
final class StaticRoundRobin<S extends Candidate> implements Balancer<S> {

    private final List<S> servers;
    private final boolean allBackups;
    /** Indexes into {@link #servers} of the servers the map was built for. */
    private int[] admitted = new int[0];
    /** Indexes into {@link #servers}, each server weight times. */
    private int[] map = new int[0];
    private int position;

    StaticRoundRobin(List<S> servers, boolean allBackups) {
        this.servers = List.copyOf(servers);
        this.allBackups = allBackups;
    }

    @Override
    public synchronized S pick(InetSocketAddress client, Set<S> exclude) {
        Tier<S> tier = Tier.of(servers, allBackups);
        int[] now = new int[servers.size()];
        int n = 0;
        for (int i = 0; i < servers.size(); i++) {
            if (tier.admits(servers.get(i))) {
                now[n++] = i;
            }
        }
        now = Arrays.copyOf(now, n);
        if (!Arrays.equals(now, admitted)) {
            admitted = now;
            map = buildMap(now);
            position = 0;
        }
        for (int k = 0; k < map.length; k++) {
            S s = servers.get(map[position]);
            position = (position + 1) % map.length;
            if (!exclude.contains(s)) {
                return s;
            }
        }
        return null;
    }

    /** The smooth weighted interleave (as {@link RoundRobin} makes it), written down once. */
    private int[] buildMap(int[] indexes) {
        int total = 0;
        for (int i : indexes) {
            total += servers.get(i).weight();
        }
        int[] out = new int[total];
        int[] credit = new int[indexes.length];
        for (int slot = 0; slot < total; slot++) {
            int best = 0;
            for (int j = 0; j < indexes.length; j++) {
                credit[j] += servers.get(indexes[j]).weight();
                if (credit[j] > credit[best]) {
                    best = j;
                }
            }
            credit[best] -= total;
            out[slot] = indexes[best];
        }
        return out;
    }
}
