package io.mailproxy.stats;

import io.mailproxy.backend.Backend;
import io.mailproxy.backend.Server;
import io.mailproxy.log.Termination;
import io.mailproxy.proxyprotocol.ProxyProtocolError;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Every counter of a running proxy: one {@link ProxyCounters} block per frontend, backend and
 * server, all in one {@link LoopCounters}, read by the stats page, the CSV, /metrics and the
 * runtime API. Built at start with room for as many blocks again (at least {@link #SPARE_BLOCKS}):
 * frontends, backends or servers that a reload adds get blocks from that room when first asked
 * for; kept ones keep their blocks and counts, so a reload resets nothing.
 */
public final class Statistics {

    private static final Logger LOG = Logger.getLogger(Statistics.class.getName());

    /** Blocks kept free at start for what reloads add (one block is under a kilobyte per event loop). */
    static final int SPARE_BLOCKS = 256;

    private final LoopCounters loop;
    private final int capacity;
    private int next;
    /** Counts for whatever a reload added past the room: shared, and said once in the log. */
    private ProxyCounters overflow;
    // Replaced whole (copy on write) by include; read by any thread.
    private volatile Map<String, ProxyCounters> frontends = Map.of();
    private volatile Map<String, ProxyCounters> backends = Map.of();
    private volatile Map<Server, ProxyCounters> servers = Map.of();
    private final long startedAtMillis = System.currentTimeMillis();

    private Statistics(Collection<String> frontendNames, Collection<Backend> backendList) {
        int blocks = frontendNames.size() + backendList.size();
        for (Backend b : backendList) {
            blocks += b.servers().size();
        }
        capacity = blocks + Math.max(SPARE_BLOCKS, blocks) + 1;
        loop = new LoopCounters(capacity * ProxyCounters.SIZE);
        include(frontendNames, backendList);
    }

    /** Counters for these frontends (by name) and backends with their servers. */
    public static Statistics of(Collection<String> frontendNames, Collection<Backend> backends) {
        return new Statistics(frontendNames, backends);
    }

    /**
     * Gives counters to the frontends, backends and servers that have none yet; those that have
     * keep theirs. Any that a reload adds get theirs on first use as well.
     */
    synchronized void include(Collection<String> frontendNames, Collection<Backend> backendList) {
        Map<String, ProxyCounters> f = new LinkedHashMap<>(frontends);
        Map<String, ProxyCounters> b = new LinkedHashMap<>(backends);
        Map<Server, ProxyCounters> s = new IdentityHashMap<>(servers);
        for (String name : frontendNames) {
            f.computeIfAbsent(name, n -> block("frontend " + n));
        }
        for (Backend backend : backendList) {
            b.computeIfAbsent(backend.name(), n -> block("backend " + n));
            for (Server server : backend.servers()) {
                s.computeIfAbsent(server, x -> block("server " + x.qualifiedName()));
            }
        }
        frontends = f;
        backends = b;
        servers = s;
    }

    private ProxyCounters block(String what) {
        if (next + 1 < capacity) {
            ProxyCounters c = new ProxyCounters(loop, next * ProxyCounters.SIZE);
            next++;
            return c;
        }
        if (overflow == null) {
            overflow = new ProxyCounters(loop, (capacity - 1) * ProxyCounters.SIZE);
            LOG.warning(() -> "reloads added more than statistics have room for: " + what + " and those added after it"
                    + " share one set of counters until the next restart");
        }
        return overflow;
    }

    /** The calling event loop's stripe: only that loop may count with it. */
    public long[] stripe() {
        return loop.stripe();
    }

    /** A frontend's counters; one that a reload added gets its block on first use. */
    public ProxyCounters frontend(String name) {
        ProxyCounters c = frontends.get(name);
        return c != null ? c : added(name, null, null);
    }

    /** A backend's counters; one that a reload added gets its block on first use. */
    public ProxyCounters backend(String name) {
        ProxyCounters c = backends.get(name);
        return c != null ? c : added(null, name, null);
    }

    /** A server's counters; one that a reload added gets its block on first use. */
    public ProxyCounters server(Server s) {
        ProxyCounters c = servers.get(s);
        return c != null ? c : added(null, null, s);
    }

    private synchronized ProxyCounters added(String frontend, String backend, Server server) {
        if (frontend != null) {
            Map<String, ProxyCounters> f = new LinkedHashMap<>(frontends);
            ProxyCounters c = f.computeIfAbsent(frontend, n -> block("frontend " + n));
            frontends = f;
            return c;
        }
        if (backend != null) {
            Map<String, ProxyCounters> b = new LinkedHashMap<>(backends);
            ProxyCounters c = b.computeIfAbsent(backend, n -> block("backend " + n));
            backends = b;
            return c;
        }
        Map<Server, ProxyCounters> s = new IdentityHashMap<>(servers);
        ProxyCounters c = s.computeIfAbsent(server, x -> block("server " + x.qualifiedName()));
        servers = s;
        return c;
    }

    /** When the proxy started, ms since the epoch. */
    public long startedAtMillis() {
        return startedAtMillis;
    }

    /**
     * A session ended: counted by its reason in its frontend, its backend (when it was sent there)
     * and its server (when it was connected), and in the HAProxy counters the reason feeds.
     *
     * @param backend null when the session never asked for a server
     * @param server  null when it was never connected to one
     * @param detail  the log's detail, whose {@code PRX_*} prefix names a PROXY header error
     */
    public static void ended(long[] stripe, Termination t, String detail, int retries, ProxyCounters frontend,
                             ProxyCounters backend, ProxyCounters server) {
        frontend.ended(stripe, t);
        switch (t) {
            case UNTRUSTED_PEER, RATE_LIMITED, SOURCE_LIMIT -> frontend.add(stripe, Stat.DENIED, 1);
            case TLS_HANDSHAKE_FAILED, TLS_TIMEOUT -> {
                frontend.add(stripe, Stat.TLS_FAILED, 1);
                frontend.add(stripe, Stat.REQUEST_ERRORS, 1);
            }
            case PROXY_INVALID, PROXY_TIMEOUT, PROXY_TRUNCATED, PROXY_EMPTY -> {
                ProxyProtocolError e = proxyError(t, detail);
                frontend.proxyRejected(stripe, e);
                if (e != ProxyProtocolError.PRX_EMPTY) {
                    frontend.add(stripe, Stat.REQUEST_ERRORS, 1);
                }
            }
            case CLIENT_ABORT -> frontend.add(stripe, Stat.CLIENT_ABORTS, 1);
            default -> {
            }
        }
        for (ProxyCounters c : new ProxyCounters[] {backend, server}) {
            if (c == null) {
                continue;
            }
            c.ended(stripe, t);
            switch (t) {
                case CLIENT_ABORT -> c.add(stripe, Stat.CLIENT_ABORTS, 1);
                case SERVER_ABORT, SERVER_ABORT_IN_TRANSACTION -> {
                    c.add(stripe, Stat.SERVER_ABORTS, 1);
                    c.add(stripe, Stat.RESPONSE_ERRORS, 1);
                }
                default -> {
                }
            }
        }
        if (backend != null && retries > 0) {
            backend.add(stripe, Stat.RETRIES, retries);
        }
        if (backend != null && server == null
                && (t == Termination.NO_SERVER || t == Termination.CONNECT_TIMEOUT || t == Termination.GREETING_TIMEOUT)) {
            backend.add(stripe, Stat.CONNECT_ERRORS, 1);
        }
    }

    /** The PROXY header error a session ending {@code t} with {@code detail} stands for. */
    static ProxyProtocolError proxyError(Termination t, String detail) {
        if (detail != null && detail.startsWith("PRX_")) {
            int end = detail.indexOf(':');
            try {
                return ProxyProtocolError.valueOf(end < 0 ? detail : detail.substring(0, end));
            } catch (IllegalArgumentException e) {
                // not one of ours: fall back on the termination
            }
        }
        return switch (t) {
            case PROXY_TIMEOUT -> ProxyProtocolError.PRX_TIMEOUT;
            case PROXY_EMPTY -> ProxyProtocolError.PRX_EMPTY;
            case PROXY_TRUNCATED -> ProxyProtocolError.PRX_TRUNCATED;
            default -> ProxyProtocolError.PRX_BAD_HDR;
        };
    }
}
