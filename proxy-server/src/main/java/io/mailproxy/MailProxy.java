package io.mailproxy;

import io.mailproxy.backend.Backend;
import io.mailproxy.backend.BackendConnector;
import io.mailproxy.checks.MailCheck;
import io.mailproxy.config.BackendSettings;
import io.mailproxy.config.BindAddress;
import io.mailproxy.config.ConfigProblem;
import io.mailproxy.config.ConfigurationException;
import io.mailproxy.config.FrontendSettings;
import io.mailproxy.config.ProxySettings;
import io.mailproxy.config.StickTableSettings;
import io.mailproxy.frontend.Frontend;
import io.mailproxy.health.HealthChecks;
import io.mailproxy.log.Reasons;
import io.mailproxy.session.Sessions;
import io.mailproxy.limit.ConnectionGate;
import io.mailproxy.stick.StickTable;
import io.mailproxy.tls.ClientTls;
import io.mailproxy.tls.ServerTls;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannelRecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import javax.net.ssl.SSLException;

/**
 * A running proxy built from {@link ProxySettings}: one listener per bind address, sessions on a
 * shared group of event loops. Built once; a new configuration builds a new instance.
 */
public final class MailProxy implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(MailProxy.class.getName());

    /** Time after the longest grace for closing sessions to finish their flush, and after a kill. */
    private static final Duration STOP_MARGIN = Duration.ofSeconds(2);

    /** Outbound buffer bounds per connection: past the high mark the other side stops reading. */
    private static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(64 * 1024, 256 * 1024);

    private final ProxySettings settings;
    private final Transport transport;
    private final EventLoopGroup acceptors;
    private final EventLoopGroup workers;
    private final ChannelGroup listeners = new DefaultChannelGroup("listeners", GlobalEventExecutor.INSTANCE);
    private final Sessions sessions = new Sessions();
    private final AtomicInteger active = new AtomicInteger();
    private ConnectionGate gate;
    private volatile boolean closed;
    private final Map<String, Backend> backends = new LinkedHashMap<>();
    private final List<Frontend> frontends = new ArrayList<>();
    private final List<InetSocketAddress> boundAddresses = new ArrayList<>();
    private final SslProvider tlsProvider;
    private HealthChecks healthChecks;
    /** Reads the TLS files that may change while running (ticket keys, OCSP responses); off the event loops. */
    private ScheduledExecutorService tlsFiles;

    private MailProxy(ProxySettings settings, Transport transport, SslProvider tlsProvider) {
        this.settings = settings;
        this.transport = transport;
        this.tlsProvider = tlsProvider;
        this.acceptors = new MultiThreadIoEventLoopGroup(1, transport.ioHandlerFactory());
        this.workers = new MultiThreadIoEventLoopGroup(settings.ioThreads(), transport.ioHandlerFactory());
    }

    /**
     * Builds the proxy and binds every listener.
     *
     * @throws ConfigurationException when a certificate cannot be used or an address cannot be
     *     bound, naming the file, line and key
     */
    public static MailProxy start(ProxySettings settings) throws ConfigurationException {
        SslProvider provider;
        try {
            provider = ServerTls.provider(settings.tlsEngine());
        } catch (SSLException e) {
            throw new ConfigurationException(List.of(new ConfigProblem(settings.source().toString(), -1,
                    "mailproxy.tls-engine", e.getMessage())));
        }
        TlsContexts tls = tlsContexts(settings, provider);
        Transport transport;
        try {
            transport = Transport.of(settings.ioTransport());
        } catch (IllegalStateException e) {
            throw new ConfigurationException(List.of(new ConfigProblem(settings.source().toString(), -1,
                    "mailproxy.io-transport", e.getMessage())));
        }
        MailProxy proxy = new MailProxy(settings, transport, provider);
        try {
            proxy.bind(tls.frontends(), tls.backends());
        } catch (ConfigurationException | RuntimeException e) {
            proxy.close();
            throw e;
        }
        return proxy;
    }

    /**
     * The TLS of a configuration: each TLS frontend's server side, and each backend's client side
     * ({@code tls-to-server}), by name.
     */
    public record TlsContexts(Map<String, ServerTls> frontends, Map<String, ClientTls> backends) {
    }

    /**
     * Loads every certificate, CA, ticket key and OCSP file of the frontends and backends and builds
     * their TLS contexts; used by {@code mailproxy check} too.
     *
     * @throws ConfigurationException naming each setting or certificate entry that cannot be used
     */
    public static TlsContexts tlsContexts(ProxySettings settings, SslProvider provider) throws ConfigurationException {
        Map<String, ServerTls> frontends = new LinkedHashMap<>();
        Map<String, ClientTls> backends = new LinkedHashMap<>();
        List<ConfigProblem> problems = new ArrayList<>();
        if (provider == SslProvider.JDK) {
            String why = ServerTls.useJdkCurves(settings.frontends().values().stream()
                    .filter(f -> f.tls().enabled()).map(f -> f.tls().curves()).toList());
            if (why != null) {
                problems.add(new ConfigProblem(settings.source().toString(), -1, "mailproxy.frontends.*.tls.curves", why));
            }
        }
        for (FrontendSettings f : settings.frontends().values()) {
            if (!f.tls().enabled()) {
                continue;
            }
            try {
                frontends.put(f.name(), ServerTls.build(f.name(), f.tls(), f.protocol(), provider));
            } catch (ServerTls.TlsProblem e) {
                problems.add(e.problem());
            }
        }
        for (BackendSettings b : settings.backends().values()) {
            if (!b.tlsToServer().enabled()) {
                continue;
            }
            try {
                backends.put(b.name(), ClientTls.build(b.tlsToServer(), provider));
            } catch (ServerTls.TlsProblem e) {
                problems.add(e.problem());
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigurationException(problems);
        }
        return new TlsContexts(frontends, backends);
    }

    private void bind(Map<String, ServerTls> tls, Map<String, ClientTls> toServers) throws ConfigurationException {
        // A table named under stick-tables is built once, for every backend that names it; tables
        // that no backend uses take no memory.
        Map<String, StickTable> sharedTables = new LinkedHashMap<>();
        for (BackendSettings b : settings.backends().values()) {
            StickTableSettings t = b.stickTable();
            StickTable table = t == null ? null
                    : t.shared() ? sharedTables.computeIfAbsent(t.name(), n -> StickTable.of(t)) : StickTable.of(t);
            backends.put(b.name(), new Backend(b, table));
        }
        boolean checked = settings.backends().values().stream().anyMatch(b -> b.healthCheck().enabled());
        try {
            // One checker for the process: it holds the checks' TLS context, which is costly to build.
            healthChecks = HealthChecks.of(backends.values(),
                    checked ? new MailCheck(transport.socketChannel()) : (loop, spec) -> {
                        throw new IllegalStateException("no backend has health checks");
                    }, toServers);
        } catch (HealthChecks.UnresolvedCheckTarget e) {
            throw new ConfigurationException(List.of(new ConfigProblem(settings.source().toString(), -1, e.path(),
                    e.getMessage())));
        }
        BackendConnector connector = new BackendConnector(transport.socketChannel(), WATER_MARK, toServers);
        gate = new ConnectionGate(settings.maxConnections());
        List<ConfigProblem> problems = new ArrayList<>();
        for (FrontendSettings f : settings.frontends().values()) {
            Frontend frontend = new Frontend(f, backends.get(f.backend()), tls.get(f.name()), connector, active, sessions);
            frontends.add(frontend);
            ConnectionGate.Counter count = gate.frontend(f.maxConnections());
            ServerBootstrap b = new ServerBootstrap()
                    .group(acceptors, workers)
                    .channel(transport.serverChannel())
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    // With a limit, one accept per read: the gate pauses the listener between two
                    // accepts, where a batch of 16 could overshoot the limit.
                    .option(ChannelOption.RCVBUF_ALLOCATOR,
                            new ServerChannelRecvByteBufAllocator().maxMessagesPerRead(gate.limited(count) ? 1 : 16))
                    .handler(gate.acceptHandler(count))
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.SO_KEEPALIVE, true)
                    .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                    .childHandler(frontend);
            for (BindAddress address : f.bind()) {
                ChannelFuture bound = b.bind(address.address().resolve()).awaitUninterruptibly();
                if (bound.isSuccess()) {
                    listeners.add(bound.channel());
                    boundAddresses.add((InetSocketAddress) bound.channel().localAddress());
                    LOG.info(() -> "frontend " + f.name() + " (" + f.protocol().configName()
                            + (f.tls().enabled() ? ", TLS" : "") + ") listening on " + address.address()
                            + ", backend " + f.backend());
                } else {
                    problems.add(address.problem("cannot listen on " + address.address() + ": " + Reasons.of(bound.cause())));
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigurationException(problems);
        }
        // Checks run on the workers' event loops, next to the sessions, so no thread of their own.
        healthChecks.start(workers);
        watchTlsFiles(tls);
        LOG.info(() -> "mailproxy started: " + boundAddresses.size() + " listener(s), transport " + transport.name()
                + ", TLS engine " + tlsProvider);
    }

    /** Looks at the frontends' changing TLS files every {@code tls.file-check-interval}, on a thread of its own. */
    private void watchTlsFiles(Map<String, ServerTls> tls) {
        for (FrontendSettings f : settings.frontends().values()) {
            ServerTls t = tls.get(f.name());
            if (t == null) {
                continue;
            }
            if (tlsFiles == null) {
                tlsFiles = Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread thread = new Thread(r, "mailproxy-tls-files");
                    thread.setDaemon(true);
                    return thread;
                });
            }
            long every = f.tls().fileCheckInterval().toMillis();
            tlsFiles.scheduleWithFixedDelay(t::refresh, every, every, TimeUnit.MILLISECONDS);
        }
    }

    /** The addresses actually bound, in configuration order. */
    public List<InetSocketAddress> boundAddresses() {
        return List.copyOf(boundAddresses);
    }

    public Map<String, Backend> backends() {
        return Map.copyOf(backends);
    }

    /** The servers' health checks (none for backends with {@code health-check.type = none}). */
    public HealthChecks healthChecks() {
        return healthChecks;
    }

    /** Sessions that have not ended. */
    public int activeSessions() {
        return active.get();
    }

    /** The sessions that have not ended. */
    public Sessions sessions() {
        return sessions;
    }

    /** The frontends, in configuration order. */
    public List<Frontend> frontends() {
        return List.copyOf(frontends);
    }

    /** The process's and each listener's connection counts against their {@code max-connections}. */
    public ConnectionGate gate() {
        return gate;
    }

    /**
     * Stops: the listeners close at once; each session ends as its frontend's
     * {@code shutdown-grace} lets it (sessions not yet relayed at once, relayed ones when the grace
     * runs out, LMTP sessions as soon as no delivery is in flight); whatever is left a moment after
     * the longest grace is closed without a flush; then the checks and the event loops stop.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        listeners.close().awaitUninterruptibly();
        sessions.stopAll();
        Duration longest = Duration.ZERO;
        for (FrontendSettings f : settings.frontends().values()) {
            longest = f.shutdownGrace().compareTo(longest) > 0 ? f.shutdownGrace() : longest;
        }
        if (!sessions.awaitEmpty(longest.plus(STOP_MARGIN))) {
            sessions.killAll("mailproxy is stopping: the session did not end within its shutdown-grace");
            sessions.awaitEmpty(STOP_MARGIN);
        }
        if (healthChecks != null) {
            healthChecks.close();
        }
        if (tlsFiles != null) {
            tlsFiles.shutdownNow();
        }
        acceptors.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        workers.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly();
    }
}
