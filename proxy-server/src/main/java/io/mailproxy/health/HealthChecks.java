package io.mailproxy.health;

import io.mailproxy.backend.Backend;
import io.mailproxy.backend.Server;
import io.mailproxy.checks.CheckResult;
import io.mailproxy.checks.CheckSpec;
import io.mailproxy.checks.CheckTls;
import io.mailproxy.checks.Checker;
import io.mailproxy.checks.ServerCounts;
import io.mailproxy.checks.ServerHealth;
import io.mailproxy.checks.TransitionListener;
import io.mailproxy.config.HealthCheckSettings;
import io.mailproxy.tls.ClientTls;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.Collection;
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

    private final Map<Server, ServerHealth> healths;

    private HealthChecks(Map<Server, ServerHealth> healths) {
        this.healths = Collections.unmodifiableMap(healths);
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
        Map<Server, ServerHealth> healths = new LinkedHashMap<>();
        for (Backend backend : backends) {
            HealthCheckSettings hc = backend.settings().healthCheck();
            if (!hc.enabled()) {
                continue;
            }
            TransitionListener listener = new Listener(backend);
            CheckTls tls = checkTls(hc, tlsToServers.get(backend.name()));
            for (Server server : backend.servers()) {
                CheckSpec spec = new CheckSpec(hc.type().checkType(), target(backend, server, hc), tls,
                        hc.sendProxy(), hc.timeout(), hc.expectCapabilities(), hc.heloName());
                ServerHealth health = new ServerHealth(backend.name(), server.name(), spec, hc.schedule(), checker,
                        listener);
                healths.put(server, health);
                if (hc.observe()) {
                    server.observeWith(new Server.TrafficObserver() {
                        @Override
                        public void failed(String detail, boolean timeout) {
                            health.observeError(detail, timeout, hc.errorLimit());
                        }

                        @Override
                        public void succeeded() {
                            health.observeSuccess();
                        }
                    });
                }
            }
        }
        return new HealthChecks(healths);
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

    /** Where to check {@code server}: its own address unless {@code address}/{@code port} say otherwise. */
    static InetSocketAddress target(Backend backend, Server server, HealthCheckSettings hc) {
        InetSocketAddress own = server.address();
        int port = hc.port() != null ? hc.port() : own.getPort();
        InetSocketAddress target = hc.address() != null ? new InetSocketAddress(hc.address(), port)
                : own.isUnresolved() ? own : new InetSocketAddress(own.getAddress(), port);
        if (target.isUnresolved()) {
            throw new UnresolvedCheckTarget("mailproxy.backends." + backend.name() + ".health-check",
                    "cannot resolve the check address of " + server.qualifiedName() + ": " + target.getHostString());
        }
        return target;
    }

    /** Starts every check, spreading the servers over the event loops of {@code group}. */
    public void start(EventLoopGroup group) {
        for (ServerHealth health : healths.values()) {
            health.start(group.next());
        }
    }

    /** The health of {@code server}, or null when its backend has no checks. */
    public ServerHealth health(Server server) {
        return healths.get(server);
    }

    /** How many servers are checked. */
    public int size() {
        return healths.size();
    }

    /** Stops every check; server states stay as they were. */
    @Override
    public void close() {
        for (ServerHealth health : healths.values()) {
            health.stop();
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
            return backend.markUp(backend.server(health.server()), up);
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
