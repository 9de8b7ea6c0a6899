package io.mailproxy.backend;

import io.mailproxy.balance.Balancer;
import io.mailproxy.checks.ServerCounts;
import io.mailproxy.config.BackendSettings;
import io.mailproxy.config.OnMarkedDown;
import io.mailproxy.config.ServerSettings;
import io.mailproxy.stick.StickTable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/** A backend at run time: its servers, its balancer and its counters. */
public final class Backend {

    private static final Logger LOG = Logger.getLogger(Backend.class.getName());

    private final BackendSettings settings;
    private final List<Server> servers;
    private final Balancer balancer;
    private final StickTable stickTable;
    private final BackendQueue queue;
    private final AtomicInteger active = new AtomicInteger();

    /**
     * A backend with a stick table of its own when its settings ask for one. A table shared with
     * other backends ({@code stick-table = name}) must be built once and passed to
     * {@link #Backend(BackendSettings, StickTable)}; here it would get a private instance.
     */
    public Backend(BackendSettings settings) {
        this(settings, settings.stickTable() == null ? null : StickTable.of(settings.stickTable()));
    }

    /** A backend keeping its clients on their servers with {@code stickTable} (null: no stickiness). */
    public Backend(BackendSettings settings, StickTable stickTable) {
        this.settings = settings;
        this.stickTable = stickTable;
        List<Server> list = new ArrayList<>();
        // Without checks a server is always UP; with them it starts as `health-check.start` says.
        boolean initiallyUp = !settings.healthCheck().enabled() || settings.healthCheck().startUp();
        for (ServerSettings s : settings.servers()) {
            list.add(new Server(settings.name(), s, initiallyUp));
        }
        this.servers = List.copyOf(list);
        this.balancer = Balancer.of(settings.balance(), settings.hashType(), servers, settings.allBackups());
        this.queue = new BackendQueue(servers, balancer, settings.redispatch());
        for (Server s : servers) {
            s.onSlotFreed(queue::dispatch);
        }
    }

    /** The sessions waiting for a connection slot. */
    public BackendQueue queue() {
        return queue;
    }

    /**
     * A server for a new session from {@code client}, with its slot taken: the balancer's pick among
     * the servers with a free slot that are not in {@code exclude}; null when none has one.
     */
    public Server pickFree(java.net.InetSocketAddress client, java.util.Set<Server> exclude) {
        return queue.pickFree(client, exclude);
    }

    /**
     * Whether some usable server of the tier in use (the normal servers while one is usable, else the
     * backups) is not in {@code exclude}, full or not: then waiting for a slot makes sense.
     */
    public boolean anyUsable(java.util.Set<Server> exclude) {
        boolean normal = servers.stream().anyMatch(s -> s.usable() && !s.backup());
        for (Server s : servers) {
            if (s.usable() && s.backup() != normal && !exclude.contains(s)) {
                return true;
            }
        }
        return false;
    }

    public String name() {
        return settings.name();
    }

    public BackendSettings settings() {
        return settings;
    }

    public List<Server> servers() {
        return servers;
    }

    public Balancer balancer() {
        return balancer;
    }

    /** The stick table this backend matches and stores in, or null when it has none. */
    public StickTable stickTable() {
        return stickTable;
    }

    /**
     * Applies a health check's verdict: a DOWN server gets no new session and, with
     * {@code on-marked-down = shutdown-sessions}, loses the ones it has. Returns the usable servers
     * left, for the transition's log line.
     */
    public ServerCounts markUp(Server server, boolean up) {
        if (!servers.contains(server)) {
            throw new IllegalArgumentException(server + " is not a server of backend " + name());
        }
        server.up(up);
        // UP: its slots are free for waiting sessions; DOWN: sessions waiting for it may redispatch.
        queue.dispatch();
        if (!up && settings.onMarkedDown() == OnMarkedDown.SHUTDOWN_SESSIONS) {
            int n = server.shutdownSessions("server " + server.qualifiedName() + " is DOWN");
            if (n > 0) {
                LOG.info(() -> "on-marked-down shutdown-sessions: closing " + n + " session(s) of " + server.qualifiedName());
            }
        }
        return counts();
    }

    /** Usable (UP, weight above 0) normal and backup servers, as HAProxy counts them. */
    public ServerCounts counts() {
        int active = 0;
        int backup = 0;
        for (Server s : servers) {
            if (s.usable()) {
                if (s.backup()) {
                    backup++;
                } else {
                    active++;
                }
            }
        }
        return new ServerCounts(active, backup);
    }

    /** The server of this backend named {@code name}, or null. */
    public Server server(String name) {
        for (Server s : servers) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        return null;
    }

    /** Sessions of this backend that have not ended. */
    public AtomicInteger active() {
        return active;
    }
}
