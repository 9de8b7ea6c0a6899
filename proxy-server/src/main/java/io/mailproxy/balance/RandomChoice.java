package io.mailproxy.balance;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * HAProxy's {@code random} (that is {@code random(2)}): draw two servers at random, each with a
 * probability proportional to its weight, and keep the one with the lower {@link Candidate#load()}
 * relative to its weight (the first drawn on a tie). "The power of two choices": nearly as even as
 * {@code leastconn}, without every event loop piling onto the same least loaded server, and with
 * no shared state between picks.
 *
 * <p>Lock-free: each pick draws from its own thread's generator.
 */
final class RandomChoice<S extends Candidate> implements Balancer<S> {

    /** HAProxy's default number of draws. */
    static final int DEFAULT_DRAWS = 2;

    private final List<S> servers;
    private final boolean allBackups;
    private final int draws;
    private final Supplier<RandomGenerator> random;

    RandomChoice(List<S> servers, boolean allBackups) {
        this(servers, allBackups, DEFAULT_DRAWS, ThreadLocalRandom::current);
    }

    /** With {@code draws} draws and the generator {@code random} gives (a seeded one in tests). */
    RandomChoice(List<S> servers, boolean allBackups, int draws, Supplier<RandomGenerator> random) {
        if (draws < 1) {
            throw new IllegalArgumentException("draws must be at least 1");
        }
        this.servers = List.copyOf(servers);
        this.allBackups = allBackups;
        this.draws = draws;
        this.random = random;
    }

    @Override
    public S pick(InetSocketAddress client, Set<S> exclude) {
        Tier<S> tier = Tier.of(servers, allBackups);
        long total = 0;
        for (S s : servers) {
            if (tier.admits(s) && !exclude.contains(s)) {
                total += s.weight();
            }
        }
        if (total == 0) {
            return null;
        }
        RandomGenerator r = random.get();
        S best = null;
        for (int d = 0; d < draws; d++) {
            S s = draw(tier, exclude, r.nextLong(total));
            // A server can change state between the two scans; then it is simply not drawn.
            if (s != null && (best == null || lighter(s, best))) {
                best = s;
            }
        }
        return best;
    }

    /** The server that the point {@code at} of the weight line [0, total) falls on. */
    private S draw(Tier<S> tier, Set<S> exclude, long at) {
        long rest = at;
        for (S s : servers) {
            if (tier.admits(s) && !exclude.contains(s)) {
                rest -= s.weight();
                if (rest < 0) {
                    return s;
                }
            }
        }
        return null;
    }

    /** a's load per weight unit below b's, compared without division. */
    private static boolean lighter(Candidate a, Candidate b) {
        return (long) a.load() * b.weight() < (long) b.load() * a.weight();
    }
}
