package io.mailproxy.backend;

import io.mailproxy.balance.Balancer;
import io.mailproxy.checks.ServerCounts;
import io.mailproxy.config.BackendSettings;
import io.mailproxy.config.OnMarkedDown;
import io.mailproxy.config.ServerSettings;
import io.mailproxy.log.Termination;
import io.mailproxy.stick.StickTable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/** A backend at run time: its servers, its balancer, its admission queue and its counters. */
public final class Backend {

    private static final Logger LOG = Logger.getLogger(Backend.class.getName());

    // Replaced by a reload that keeps the backend (reconfigure); read by every event loop.
    private volatile BackendSettings settings;
    private volatile List<Server> servers;
    private volatile Balancer<Server> balancer;
    private volatile StickTable stickTable;
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
        this.queue = new BackendQueue(settings.name(), servers, balancer, settings.allBackups(), settings.redispatch());
    }

    /**
     * A reload kept this backend (same name) with {@code next} settings. Servers are matched by
     * name: a kept one keeps its state, counts, sessions and queue and takes its new settings; a new
     * one starts as a new server would ({@code health-check.start}); a removed one is retired: it
     * takes no new session and its sessions go on. The balancer is rebuilt over the new list (so a
     * new weight applies to the next pick) and the queue serves its waiters under the new layout.
     * Called by one thread at a time (the reload); sessions may run on every event loop meanwhile.
     *
     * @param table the stick table for {@code next} (kept, resized or new), or null
     * @return the servers the reload removed
     */
    public List<Server> reconfigure(BackendSettings next, StickTable table) {
        if (!next.name().equals(name())) {
            throw new IllegalArgumentException("backend " + name() + " cannot become " + next.name());
        }
        boolean initiallyUp = !next.healthCheck().enabled() || next.healthCheck().startUp();
        List<Server> list = new ArrayList<>();
        for (ServerSettings s : next.servers()) {
            Server kept = server(s.name());
            if (kept != null) {
                kept.reconfigure(s);
                list.add(kept);
            } else {
                list.add(new Server(next.name(), s, initiallyUp));
            }
        }
        List<Server> removed = new ArrayList<>();
        for (Server s : servers) {
            if (!list.contains(s)) {
                s.retire();
                removed.add(s);
            }
        }
        Balancer<Server> nextBalancer = Balancer.of(next.balance(), next.hashType(), list, next.allBackups());
        this.settings = next;
        this.stickTable = table;
        this.servers = List.copyOf(list);
        this.balancer = nextBalancer;
        queue.reconfigure(list, nextBalancer, next.allBackups(), next.redispatch());
        return removed;
    }

    /**
     * A reload removed this backend: its servers take no new session (sessions waiting for one are
     * refused), its sessions go on.
     */
    public void retire() {
        for (Server s : servers) {
            s.retire();
        }
        queue.stateChanged();
    }

    /** Where sessions take their connection slots, and wait for one. */
    public BackendQueue queue() {
        return queue;
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

    public Balancer<Server> balancer() {
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
        queue.stateChanged();
        if (!up && settings.onMarkedDown() == OnMarkedDown.SHUTDOWN_SESSIONS) {
            int n = server.shutdownSessions(Termination.SERVER_DOWN, "server " + server.qualifiedName() + " is DOWN");
            if (n > 0) {
                LOG.info(() -> "on-marked-down shutdown-sessions: closing " + n + " session(s) of " + server.qualifiedName());
            }
        }
        return counts();
    }

    /**
     * Sets a server's administrative state (the runtime API's {@code set server B/S state}): DRAIN
     * takes no new sessions but sticky ones, MAINT none; the sessions it has stay. Waiting sessions
     * are served again in their order.
     */
    public void setAdminState(Server server, Server.AdminState state) {
        Server.AdminState before = own(server).adminState();
        if (before == state) {
            return;
        }
        server.adminState(state);
        queue.stateChanged();
        String line = switch (state) {
            case MAINT -> "Server " + server.qualifiedName() + " is going DOWN for maintenance.";
            case DRAIN -> "Server " + server.qualifiedName() + " enters drain state.";
            case READY -> "Server " + server.qualifiedName() + " is " + (server.healthUp() ? "UP" : "DOWN")
                    + "/READY (leaving " + (before == Server.AdminState.MAINT ? "forced maintenance" : "drain") + ").";
        };
        ServerCounts c = counts();
        LOG.warning(line + " " + c.active() + " active and " + c.backup() + " backup servers left.");
    }

    /** Sets a server's weight, 0 to 256 (the runtime API's {@code set server B/S weight}). */
    public void setWeight(Server server, int weight) {
        if (weight < 0 || weight > ServerSettings.MAX_WEIGHT) {
            throw new IllegalArgumentException("weight " + weight + " is not within 0.." + ServerSettings.MAX_WEIGHT);
        }
        own(server).weight(weight);
        queue.stateChanged();
    }

    /**
     * Sets a server's {@code max-connections}, 0 = no limit ({@code set maxconn server}): waiting
     * sessions take the slots a raise frees, in their order; a lower limit lets the sessions over it
     * finish and hands on no slot until the count is under it.
     */
    public void setMaxConnections(Server server, int max) {
        if (max < 0) {
            throw new IllegalArgumentException("max-connections " + max + " must not be negative");
        }
        queue.maxConnectionsChanged(own(server), max);
    }

    private Server own(Server server) {
        if (!servers.contains(server)) {
            throw new IllegalArgumentException(server + " is not a server of backend " + name());
        }
        return server;
    }

    /** Usable (UP, weight above 0) normal and backup servers, as HAProxy counts them. */
    public ServerCounts counts() {
        int normal = 0;
        int backup = 0;
        for (Server s : servers) {
            if (s.usable()) {
                if (s.backup()) {
                    backup++;
                } else {
                    normal++;
                }
            }
        }
        return new ServerCounts(normal, backup);
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
