package io.mailproxy.stats;

import io.mailproxy.backend.Backend;
import io.mailproxy.backend.Server;
import io.mailproxy.log.Termination;
import io.mailproxy.proxyprotocol.ProxyProtocolError;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every counter of a running proxy: one {@link ProxyCounters} block per frontend, backend and
 * server, all in one {@link LoopCounters}. Built once at start (the set of frontends, backends and
 * servers does not change while running), read by the stats page, the CSV, /metrics and the
 * runtime API.
 */
public final class Statistics {

    private final LoopCounters loop;
    private final Map<String, ProxyCounters> frontends = new LinkedHashMap<>();
    private final Map<String, ProxyCounters> backends = new LinkedHashMap<>();
    private final Map<Server, ProxyCounters> servers = new IdentityHashMap<>();
    private final long startedAtMillis = System.currentTimeMillis();

    private Statistics(Collection<String> frontendNames, Collection<Backend> backendList) {
        int blocks = frontendNames.size() + backendList.size();
        for (Backend b : backendList) {
            blocks += b.servers().size();
        }
        loop = new LoopCounters(blocks * ProxyCounters.SIZE);
        int next = 0;
        for (String f : frontendNames) {
            frontends.put(f, new ProxyCounters(loop, next));
            next += ProxyCounters.SIZE;
        }
        for (Backend b : backendList) {
            backends.put(b.name(), new ProxyCounters(loop, next));
            next += ProxyCounters.SIZE;
            for (Server s : b.servers()) {
                servers.put(s, new ProxyCounters(loop, next));
                next += ProxyCounters.SIZE;
            }
        }
    }

    /** Counters for these frontends (by name) and backends with their servers. */
    public static Statistics of(Collection<String> frontendNames, Collection<Backend> backends) {
        return new Statistics(frontendNames, backends);
    }

    /** The calling event loop's stripe: only that loop may count with it. */
    public long[] stripe() {
        return loop.stripe();
    }

    public ProxyCounters frontend(String name) {
        return frontends.get(name);
    }

    public ProxyCounters backend(String name) {
        return backends.get(name);
    }

    public ProxyCounters server(Server s) {
        return servers.get(s);
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
