package io.mailproxy.balance;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * HAProxy's {@code source}: the server follows from a hash of the original client address (IPv4
 * or IPv6; the port is not part of it), so a client keeps reaching the same server as long as the
 * set of usable servers stays the same. {@code hash-type} says how the hash maps to a server:
 * {@link MapBased} or {@link Consistent}.
 *
 * <p>A session without an IP client address (a unix socket, a PROXY header with {@code LOCAL} or
 * {@code UNKNOWN}) is balanced round robin, as HAProxy does. Servers already tried by the session
 * are skipped: map-based hashes over the others, consistent walks on to the next server on the ring.
 */
abstract sealed class Source<S extends Candidate> implements Balancer<S> permits Source.MapBased, Source.Consistent {

    final List<S> servers;
    private final boolean allBackups;
    private final RoundRobin<S> fallback;

    Source(List<S> servers, boolean allBackups) {
        this.servers = List.copyOf(servers);
        this.allBackups = allBackups;
        this.fallback = new RoundRobin<>(servers, allBackups);
    }

    @Override
    public final S pick(InetSocketAddress client, Set<S> exclude) {
        InetAddress address = client == null ? null : client.getAddress();
        if (address == null) {
            return fallback.pick(client, exclude);
        }
        return pick(AddressHash.of(address.getAddress()), Tier.of(servers, allBackups), exclude);
    }

    /** The server for {@code hash} among those {@code tier} admits and not in {@code exclude}. */
    abstract S pick(long hash, Tier<S> tier, Set<S> exclude);

    /**
     * {@code hash-type = map-based}: the hash modulo the total weight of the admitted servers picks a
     * slot on the line of those servers, each as wide as its weight. Even, but when a server goes
     * DOWN, comes back or is added, most clients change server. Stateless, hence no lock.
     */
    static final class MapBased<S extends Candidate> extends Source<S> {

        MapBased(List<S> servers, boolean allBackups) {
            super(servers, allBackups);
        }

        @Override
        S pick(long hash, Tier<S> tier, Set<S> exclude) {
            long total = 0;
            for (S s : servers) {
                if (tier.admits(s) && !exclude.contains(s)) {
                    total += s.weight();
                }
            }
            if (total == 0) {
                return null;
            }
            long rest = Long.remainderUnsigned(hash, total);
            for (S s : servers) {
                if (tier.admits(s) && !exclude.contains(s)) {
                    rest -= s.weight();
                    if (rest < 0) {
                        return s;
                    }
                }
            }
            // A server went DOWN between the two scans: take the last admitted one rather than none.
            for (int i = servers.size() - 1; i >= 0; i--) {
                S s = servers.get(i);
                if (tier.admits(s) && !exclude.contains(s)) {
                    return s;
                }
            }
            return null;
        }
    }

    /**
     * {@code hash-type = consistent}: every server with a weight above 0 owns
     * {@value #POINTS_PER_WEIGHT} points per weight unit on a ring of 64-bit hashes, placed by a hash
     * of its name and the point's number; a client goes to the owner of the first point at or after
     * its hash (clockwise) that the tier admits and the session has not tried. A server going DOWN
     * hands only its own clients to the servers after its points; adding one of N servers takes
     * about 1/N of the clients from the others and moves nobody else. Points depend on names only,
     * so reordering the servers in the file moves nobody either.
     *
     * <p>The ring is built once (weights are fixed at start-up) and never changes, hence no lock.
     */
    static final class Consistent<S extends Candidate> extends Source<S> {

        /** HAProxy's {@code BE_WEIGHT_SCALE}: lb_chash.c gives a server {@code weight * 16} tree nodes. */
        static final int POINTS_PER_WEIGHT = 16;

        /** Ring positions, ascending (signed order: any fixed order of the 64-bit space will do). */
        private final long[] points;
        /** {@code owners[i]}: the index in {@link #servers} of the server owning {@code points[i]}. */
        private final int[] owners;

        Consistent(List<S> servers, boolean allBackups) {
            super(servers, allBackups);
            record Point(long at, int owner) { }
            List<Point> ring = new ArrayList<>();
            for (int i = 0; i < this.servers.size(); i++) {
                S s = this.servers.get(i);
                for (int p = 0; p < s.weight() * POINTS_PER_WEIGHT; p++) {
                    ring.add(new Point(AddressHash.point(s.name(), p), i));
                }
            }
            ring.sort(Comparator.comparingLong(Point::at).thenComparingInt(Point::owner));
            points = ring.stream().mapToLong(Point::at).toArray();
            owners = ring.stream().mapToInt(Point::owner).toArray();
        }

        @Override
        S pick(long hash, Tier<S> tier, Set<S> exclude) {
            if (tier.firstBackup() != null) {
                // Only one server is admitted: no need to walk the ring for it.
                S only = tier.firstBackup();
                return exclude.contains(only) ? null : only;
            }
            if (servers.stream().noneMatch(s -> tier.admits(s) && !exclude.contains(s))) {
                return null; // rather than walking the whole ring for nothing
            }
            int n = points.length;
            int start = Arrays.binarySearch(points, hash);
            if (start < 0) {
                start = -start - 1;
            }
            for (int k = 0; k < n; k++) {
                S s = servers.get(owners[(start + k) % n]);
                if (tier.admits(s) && !exclude.contains(s)) {
                    return s;
                }
            }
            return null;
        }
    }
}
