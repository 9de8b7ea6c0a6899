package io.mailproxy.balance;

import io.mailproxy.config.Balance;
import io.mailproxy.config.HashType;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;

/**
 * Chooses the server for a new session. Called from any event loop, so implementations are
 * thread-safe; a pick is short (a scan of the servers, or a walk on a fixed ring) and never blocks.
 *
 * <p>The algorithms, as HAProxy's {@code balance} keywords:
 * <ul>
 *   <li>{@code roundrobin}: smooth weighted round robin ({@link RoundRobin});
 *   <li>{@code static-rr}: round robin over a weighted map of the usable servers ({@link StaticRoundRobin});
 *   <li>{@code leastconn}: the lowest {@link Candidate#load()} relative to weight ({@link LeastConn});
 *   <li>{@code first}: the first usable server in configuration order ({@link First});
 *   <li>{@code source}: a hash of the client address, map-based or consistent ({@link Source});
 *   <li>{@code random}: the better of two weighted random draws ({@link RandomChoice}).
 * </ul>
 */
public interface Balancer<S extends Candidate> {

    /**
     * The server for a new session from {@code client} among the usable ones (UP, weight above zero)
     * of the tier in use and not in {@code exclude} (servers already tried by this session), or null
     * when none is left. The tier is the normal servers while one of them is usable, else the backups
     * (see {@link Tier}).
     *
     * @param client the original client address (the socket's peer, or what a trusted PROXY header
     *               said); only {@code source} uses it, and falls back to round robin when it is null
     *               or unresolved
     */
    S pick(InetSocketAddress client, Set<S> exclude);

    /** The balancer for {@code algorithm} over {@code servers}, using only the first usable backup. */
    static <S extends Candidate> Balancer<S> of(Balance algorithm, List<S> servers) {
        return of(algorithm, HashType.MAP_BASED, servers, false);
    }

    /**
     * The balancer for {@code algorithm} over {@code servers} (in configuration order);
     * {@code hashType} is used by {@code source} only; {@code allBackups} spreads over every usable
     * backup instead of the first one.
     */
    static <S extends Candidate> Balancer<S> of(Balance algorithm, HashType hashType, List<S> servers,
                                                boolean allBackups) {
        return switch (algorithm) {
            case ROUNDROBIN -> new RoundRobin<>(servers, allBackups);
            case STATIC_RR -> new StaticRoundRobin<>(servers, allBackups);
            case LEASTCONN -> new LeastConn<>(servers, allBackups);
            case FIRST -> new First<>(servers, allBackups);
            case SOURCE -> hashType == HashType.CONSISTENT
                    ? new Source.Consistent<>(servers, allBackups)
                    : new Source.MapBased<>(servers, allBackups);
            case RANDOM -> new RandomChoice<>(servers, allBackups);
        };
    }
}
