package io.mailproxy.health;

import io.mailproxy.backend.Backend;
import io.mailproxy.backend.Server;
import io.mailproxy.checks.CheckResult;
import io.mailproxy.checks.CheckSpec;
import io.mailproxy.checks.Checker;
import io.mailproxy.checks.ServerCounts;
import io.mailproxy.checks.ServerHealth;
import io.mailproxy.checks.TransitionListener;
import io.mailproxy.config.HealthCheckSettings;
import io.mailproxy.tls.ClientTls;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import io.mailproxy.checks.CheckSchedule;
import io.mailproxy.checks.CheckTls;
import io.mailproxy.config.BackendSettings;
import io.mailproxy.config.ServerSettings;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The health checks of every server of every backend that has them: one {@link ServerHealth} per
 * server, whose UP/DOWN verdicts go to {@link Backend#markUp}. Each server's checks run on one event
 * loop of the proxy's workers (no thread of their own); the transition lines are logged by
 * mail-checks in HAProxy's words.
 */
public final class HealthChecks implements AutoCloseable {

    /** One server's check as configured: what a reload compares to keep or replace it. */
    private record Checked(ServerHealth health, CheckSpec spec, HealthCheckSettings settings) {
    }

    /** Replaced whole by a reload; read by statistics and tests on any thread. */
    private volatile Map<Server, Checked> checks;
    private EventLoopGroup group;

    private HealthChecks(Map<Server, Checked> checks) {
        this.checks = Collections.unmodifiableMap(checks);
    }

    /**
     * Prepares (does not start) the checks of {@code backends}; backends with
     * {@code health-check.type = none} get none.
     *
     * @throws UnresolvedCheckTarget when a check address cannot be resolved
     */
    public static HealthChecks of(Collection<Backend> backends, Checker checker) {
        return of(backends, checker, Map.of());
    }

    /**
     * As {@link #of(Collection, Checker)}; the checks of a backend in {@code tlsToServers} (its
     * {@code tls-to-server} is enabled) speak implicit TLS and trust what its sessions trust.
     */
    public static HealthChecks of(Collection<Backend> backends, Checker checker, Map<String, ClientTls> tlsToServers) {
        Map<Server, Checked> checks = new LinkedHashMap<>();
        for (Backend backend : backends) {
            HealthCheckSettings hc = backend.settings().healthCheck();
            if (!hc.enabled()) {
                continue;
            }
            CheckTls tls = checkTls(hc, tlsToServers.get(backend.name()));
            for (Server server : backend.servers()) {
                checks.put(server, check(backend, server, hc, checker, hc.schedule(), spec(backend, server, hc, tls)));
            }
        }
        return new HealthChecks(checks);
    }

    /** The check's TLS: what {@code health-check.tls} says, or the sessions' TLS when the servers speak it. */
    static CheckTls checkTls(HealthCheckSettings hc, ClientTls toServers) {
        if (toServers != null) {
            return CheckTls.IMPLICIT.trusting(toServers.context(), toServers.sni());
        }
        return switch (hc.tls()) {
            case NONE -> CheckTls.NONE;
            case IMPLICIT -> CheckTls.IMPLICIT;
            case STARTTLS -> CheckTls.STARTTLS;
        };
    }

    private static CheckSpec spec(Backend backend, Server server, HealthCheckSettings hc, CheckTls tls) {
        return new CheckSpec(hc.type().checkType(), target(backend, server, hc), tls, hc.sendProxy(), hc.timeout(),
                hc.expectCapabilities(), hc.heloName());
    }

    /**
     * Fails with {@link UnresolvedCheckTarget} when a check of {@code backends} could not be made:
     * what a reload asks before it changes anything.
     */
    public static void verifyTargets(Collection<BackendSettings> backends) {
        for (BackendSettings b : backends) {
            HealthCheckSettings hc = b.healthCheck();
            if (hc.enabled()) {
                for (ServerSettings s : b.servers()) {
                    target("mailproxy.backends." + b.name() + ".health-check", b.name() + "/" + s.name(),
                            s.address().resolve(), hc);
                }
            }
        }
    }

    private static Checked check(Backend backend, Server server, HealthCheckSettings hc, Checker checker,
                                 CheckSchedule schedule, CheckSpec spec) {
        ServerHealth health = new ServerHealth(backend.name(), server.name(), spec, schedule, checker,
                new Listener(backend));
        server.observeWith(hc.observe() ? new Server.TrafficObserver() {
            @Override
            public void failed(String detail, boolean timeout) {
                health.observeError(detail, timeout, hc.errorLimit());
            }

            @Override
            public void succeeded() {
                health.observeSuccess();
            }
        } : Server.TrafficObserver.NONE);
        return new Checked(health, spec, hc);
    }

    /**
     * A reload changed the backends: a server whose check is configured as before keeps it (and
     * its counts of consecutive results); a server whose check changed gets the new one, starting
     * from the state it has now; a new server's check starts as {@code health-check.start} says; a
     * removed server's check stops; a server whose backend no longer checks is UP from now on.
     * Started checks start at once. Called by the reload's one thread.
     *
     * @param checker      runs the checks (asked for only when some backend has checks)
     * @param tlsToServers the TLS of each backend whose servers speak it, which its checks speak too
     */
    public void reconfigure(Collection<Backend> backends, Supplier<Checker> checker, Map<String, ClientTls> tlsToServers) {
        Map<Server, Checked> before = checks;
        Map<Server, Checked> after = new LinkedHashMap<>();
        List<Checked> started = new ArrayList<>();
        for (Backend backend : backends) {
            HealthCheckSettings hc = backend.settings().healthCheck();
            for (Server server : backend.servers()) {
                Checked old = before.get(server);
                if (!hc.enabled()) {
                    if (old != null) {
                        server.observeWith(Server.TrafficObserver.NONE);
                        backend.markUp(server, true);
                    }
                    continue;
                }
                CheckSpec spec = spec(backend, server, hc, checkTls(hc, tlsToServers.get(backend.name())));
                if (old != null && old.settings().equals(hc) && old.spec().equals(spec)) {
                    after.put(server, old);
                    continue;
                }
                CheckSchedule schedule = hc.schedule();
                if (old != null) {
                    // the server keeps the state its old check gave it
                    schedule = new CheckSchedule(schedule.interval(), schedule.fastInterval(), schedule.downInterval(),
                            schedule.rise(), schedule.fall(), server.isUp(), schedule.spreadPercent());
                }
                Checked fresh = check(backend, server, hc, checker.get(), schedule, spec);
                after.put(server, fresh);
                started.add(fresh);
            }
        }
        for (Map.Entry<Server, Checked> e : before.entrySet()) {
            if (after.get(e.getKey()) != e.getValue()) {
                e.getValue().health().stop();
            }
        }
        checks = Collections.unmodifiableMap(after);
        if (group != null) {
            for (Checked c : started) {
                c.health().start(group.next());
            }
        }
    }

    /** Where to check {@code server}: its own address unless {@code address}/{@code port} say otherwise. */
    static InetSocketAddress target(Backend backend, Server server, HealthCheckSettings hc) {
        return target("mailproxy.backends." + backend.name() + ".health-check", server.qualifiedName(), server.address(), hc);
    }

    private static InetSocketAddress target(String path, String server, InetSocketAddress own, HealthCheckSettings hc) {
        int port = hc.port() != null ? hc.port() : own.getPort();
        InetSocketAddress target = hc.address() != null ? new InetSocketAddress(hc.address(), port)
                : own.isUnresolved() ? own : new InetSocketAddress(own.getAddress(), port);
        if (target.isUnresolved()) {
            throw new UnresolvedCheckTarget(path, "cannot resolve the check address of " + server + ": "
                    + target.getHostString());
        }
        return target;
    }

    /** Starts every check, spreading the servers over the event loops of {@code group}. */
    public void start(EventLoopGroup group) {
        this.group = group;
        for (Checked c : checks.values()) {
            c.health().start(group.next());
        }
    }

    /** The health of {@code server}, or null when its backend has no checks. */
    public ServerHealth health(Server server) {
        Checked c = checks.get(server);
        return c == null ? null : c.health();
    }

    /** How many servers are checked. */
    public int size() {
        return checks.size();
    }

    /** Stops every check; server states stay as they were. */
    @Override
    public void close() {
        for (Checked c : checks.values()) {
            c.health().stop();
        }
    }

    /** Applies transitions to the backend and hands back its counts for the log line. */
    private static final class Listener implements TransitionListener {
        private final Backend backend;

        Listener(Backend backend) {
            this.backend = backend;
        }

        @Override
        public ServerCounts stateChanged(ServerHealth health, boolean up, CheckResult cause) {
            Server server = backend.server(health.server());
            // null: a reload removed the server while this check was in flight
            return server == null ? backend.counts() : backend.markUp(server, up);
        }
    }

    /** A check address that does not resolve: a configuration problem at start. */
    public static final class UnresolvedCheckTarget extends RuntimeException {
        private final String path;

        UnresolvedCheckTarget(String path, String message) {
            super(message);
            this.path = path;
        }

        /** The configuration key at fault. */
        public String path() {
            return path;
        }
    }
}
