package io.mailproxy;

import io.mailproxy.backend.Backend;
import io.mailproxy.backend.BackendConnector;
import io.mailproxy.checks.CheckResult;
import io.mailproxy.checks.CheckSpec;
import io.mailproxy.checks.Checker;
import io.mailproxy.checks.MailCheck;
import io.mailproxy.config.ConfigDiff;
import io.mailproxy.config.BackendSettings;
import io.mailproxy.config.BindAddress;
import io.mailproxy.config.CertificateFiles;
import io.mailproxy.config.ConfigProblem;
import io.mailproxy.config.ConfigurationException;
import io.mailproxy.config.FrontendSettings;
import io.mailproxy.config.ProxySettings;
import io.mailproxy.config.StickTableSettings;
import io.mailproxy.frontend.Frontend;
import io.mailproxy.health.HealthChecks;
import io.mailproxy.log.Reasons;
import io.mailproxy.peers.Peers;
import io.mailproxy.session.Sessions;
import io.mailproxy.limit.ConnectionGate;
import io.mailproxy.limit.FileDescriptors;
import io.mailproxy.stick.StickTable;
import io.mailproxy.tls.CertificateWatcher;
import io.mailproxy.tls.ClientTls;
import io.mailproxy.tls.ServerTls;
import io.mailproxy.admin.AdminCommands;
import io.mailproxy.admin.AdminSocket;
import io.mailproxy.config.AdminSocketSettings;
import io.mailproxy.config.StatsSettings;
import io.mailproxy.log.LogSetup;
import io.mailproxy.stats.Statistics;
import io.mailproxy.stats.http.StatsServer;
import io.mailproxy.stats.report.ProxyView;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannelRecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.net.InetSocketAddress;
import io.mailproxy.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import javax.net.ssl.SSLException;

/**
 * A running proxy built from {@link ProxySettings}: one listener per bind address, sessions on a
 * shared group of event loops. A new configuration is applied in place by {@link #reload}: sessions
 * go on, listeners whose address is kept stay open, and backends, servers and stick tables matched
 * by name keep their state.
 */
public final class MailProxy implements AutoCloseable, ProxyView {

    private static final Logger LOG = Logger.getLogger(MailProxy.class.getName());

    /** Time after the longest grace for closing sessions to finish their flush, and after a kill. */
    private static final Duration STOP_MARGIN = Duration.ofSeconds(2);

    /** Outbound buffer bounds per connection: past the high mark the other side stops reading. */
    private static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(64 * 1024, 256 * 1024);

    /**
     * Settings only a restart applies: the event loops, the transport, the TLS engine, the log
     * writer and where it writes, the stats listener, the runtime API's socket and the peers section
     * (a key of a section counts by its prefix, e.g. {@code log.target}); a synced stick table's
     * size, expiry and {@code peers} too.
     */
    private static final List<String> RESTART_ONLY = List.of("io-threads", "io-transport", "tls-engine", "log",
            "run-as-root", "stats", "admin-socket", "peers");

    private volatile ProxySettings settings;
    private final Transport transport;
    private final EventLoopGroup acceptors;
    private final EventLoopGroup workers;
    private final Sessions sessions = new Sessions();
    private final AtomicInteger active = new AtomicInteger();
    private ConnectionGate gate;
    /** What {@code max-connections = auto} came to at start; a reload to auto uses it again. */
    private int autoMaxConnections;
    private volatile boolean closed;
    // Changed by start and reload only (one at a time: both hold this object's monitor); read anywhere.
    private volatile Map<String, Backend> backends = Map.of();
    private volatile Map<String, Listening> frontends = Map.of();
    /** Stick tables by {@link #tableKey}: a reload that keeps a table keeps its entries. */
    private Map<String, StickTable> tables = Map.of();
    private final SslProvider tlsProvider;
    private HealthChecks healthChecks;
    private CertificateWatcher certificates;
    private BackendConnector connector;
    /** Each backend's TLS to its servers ({@code tls-to-server}), by name; replaced by a reload. */
    private Map<String, ClientTls> toServers = Map.of();
    private Checker checker;

    /** A frontend and its listeners, by bind address. */
    private record Listening(Frontend frontend, ConnectionGate.Counter count, Map<BindAddress, Channel> channels) {
    }
    private Statistics statistics;
    /** The stats listener's and the runtime API's loop: their work never delays a session. */
    private EventLoopGroup management;
    private StatsServer statsServer;
    private AdminSocket adminSocket;
    private Peers peers;

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
        warnAboutReadableKeys(settings);
        Transport transport;
        try {
            transport = Transport.of(settings.ioTransport());
        } catch (IllegalStateException e) {
            throw new ConfigurationException(List.of(new ConfigProblem(settings.source().toString(), -1,
                    "mailproxy.io-transport", e.getMessage())));
        }
        MailProxy proxy = new MailProxy(settings, transport, provider);
        try {
            proxy.bind(tls);
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

    /** A private key that every user of the machine may read is reported (it still works). */
    private static void warnAboutReadableKeys(ProxySettings settings) {
        for (FrontendSettings f : settings.frontends().values()) {
            for (CertificateFiles files : f.tls().certificates()) {
                try {
                    Set<PosixFilePermission> mode = Files.getPosixFilePermissions(files.key());
                    if (mode.contains(PosixFilePermission.OTHERS_READ)) {
                        LOG.warning(() -> "the private key " + files.key() + " (frontend " + f.name() + ") is readable by"
                                + " every user (mode " + PosixFilePermissions.toString(mode) + "): chmod 640 it and make it"
                                + " belong to mailproxy's group");
                    }
                } catch (IOException | UnsupportedOperationException e) {
                    // no POSIX permissions to look at: nothing to say
                }
            }
        }
    }

    private synchronized void bind(TlsContexts tls) throws ConfigurationException {
        toServers = tls.backends();
        tables = tablesFor(settings, Map.of(), new ArrayList<>());
        Map<String, Backend> built = new LinkedHashMap<>();
        for (BackendSettings b : settings.backends().values()) {
            built.put(b.name(), new Backend(b, tables.get(tableKey(b))));
        }
        backends = built;
        registerServerIds(settings);
        try {
            healthChecks = HealthChecks.of(built.values(), this::runCheck, toServers);
        } catch (HealthChecks.UnresolvedCheckTarget e) {
            throw new ConfigurationException(List.of(new ConfigProblem(settings.source().toString(), -1, e.path(),
                    e.getMessage())));
        }
        statistics = Statistics.of(settings.frontends().keySet(), built.values());
        if (settings.peers() != null && settings.peers().enabled()) {
            // Before any frontend listens: a node takes clients once its tables are taught.
            List<StickTable> synced = tables.values().stream().filter(StickTable::synced).toList();
            peers = Peers.start(settings.peers(), synced, transport.ioHandlerFactory(), transport.serverChannel(),
                    transport.socketChannel(), tlsProvider);
            try {
                peers.awaitResync();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        connector = new BackendConnector(transport.socketChannel(), WATER_MARK, toServers);
        int max = maxConnections(settings);
        autoMaxConnections = settings.maxConnections() == ProxySettings.AUTO_MAX_CONNECTIONS ? max
                : FileDescriptors.limit() < 0 ? 0 : FileDescriptors.sessionsAllowed(FileDescriptors.limit(),
                FileDescriptors.reserve(FileDescriptors.open(), listenerCount(settings), checkedCount(settings)));
        gate = new ConnectionGate(max, FileDescriptors.limit());
        List<ConfigProblem> problems = new ArrayList<>();
        Map<String, Listening> listening = new LinkedHashMap<>();
        for (FrontendSettings f : settings.frontends().values()) {
            Frontend frontend = new Frontend(f, built.get(f.backend()), tls.frontends().get(f.name()), connector, active, sessions,
                    statistics);
            Listening l = new Listening(frontend, gate.frontend(f.maxConnections()), new LinkedHashMap<>());
            listening.put(f.name(), l);
            for (BindAddress address : f.bind()) {
                listen(l, address, problems);
            }
        }
        frontends = listening;
        if (!problems.isEmpty()) {
            throw new ConfigurationException(problems);
        }
        // Checks run on the workers' event loops, next to the sessions, so no thread of their own.
        healthChecks.start(workers);
        certificates = CertificateWatcher.start(this::frontends,
                f -> ServerTls.build(f.name(), f.tls(), f.protocol(), tlsProvider), this::installCertificates,
                CertificateWatcher.INTERVAL);
        // after the checks: the runtime API may force a check's state from its first command
        startManagement();
        LOG.info(() -> "mailproxy started: " + boundAddresses().size() + " listener(s), transport " + transport.name()
                + ", TLS engine " + tlsProvider);
    }

    /** New certificates for {@code frontend}, unless a reload gave it other settings since they were read. */
    private synchronized void installCertificates(Frontend frontend, FrontendSettings builtFor, ServerTls tls) {
        if (!closed && frontend.settings() == builtFor) {
            frontend.certificates(tls);
        }
    }

    /** Runs one health check with the process's one checker, made on first use (its TLS context is costly). */
    private io.netty.util.concurrent.Future<CheckResult> runCheck(io.netty.channel.EventLoop loop, CheckSpec spec) {
        Checker c;
        synchronized (this) {
            if (checker == null) {
                checker = new MailCheck(transport.socketChannel());
            }
            c = checker;
        }
        return c.run(loop, spec);
    }

    /** Binds one address of {@code l}'s frontend; a failure is added to {@code problems}. */
    private void listen(Listening l, BindAddress address, List<ConfigProblem> problems) {
        FrontendSettings f = l.frontend().settings();
        ServerBootstrap b = new ServerBootstrap()
                .group(acceptors, workers)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.RCVBUF_ALLOCATOR, acceptBatch(l.count()))
                .handler(gate.acceptHandler(l.count()))
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .childHandler(l.frontend());
        ChannelFuture bound = b.bind(address.address().resolve()).awaitUninterruptibly();
        if (bound.isSuccess()) {
            l.channels().put(address, bound.channel());
            LOG.info(() -> "frontend " + f.name() + " (" + f.protocol().configName()
                    + (f.tls().enabled() ? ", TLS" : "") + ") listening on " + address.address()
                    + ", backend " + f.backend());
        } else {
            problems.add(address.problem("cannot listen on " + address.address() + ": " + Reasons.of(bound.cause())));
        }
    }

    /**
     * Accepts per read: with a limit, one, so that the gate pauses the listener between two accepts
     * where a batch of 16 could overshoot it (the gate holds any that do).
     */
    private io.netty.channel.RecvByteBufAllocator acceptBatch(ConnectionGate.Counter count) {
        return new ServerChannelRecvByteBufAllocator().maxMessagesPerRead(gate.limited(count) ? 1 : 16);
    }

    /**
     * Stick tables for {@code next}: a table named under {@code stick-tables} is built once for every
     * backend that names it (tables no backend uses take no memory); a backend's own table is its own.
     * A table of {@code current} with the same key is kept as it is, or resized keeping its most
     * recently used entries when its size or expiry changed.
     */
    private static Map<String, StickTable> tablesFor(ProxySettings next, Map<String, StickTable> current,
                                                     List<String> restartOnly) {
        Map<String, StickTable> out = new LinkedHashMap<>();
        for (BackendSettings b : next.backends().values()) {
            StickTableSettings t = b.stickTable();
            if (t == null || out.containsKey(tableKey(b))) {
                continue;
            }
            StickTable old = current.get(tableKey(b));
            StickTable table;
            if (old == null) {
                table = StickTable.of(t);
            } else if (old.size() == t.size() && Objects.equals(old.expire(), t.expire()) && old.synced() == t.peers()) {
                table = old;
            } else if (old.synced() || t.peers()) {
                // its peers hold this very table: a synced table changes at the next start
                table = old;
                restartOnly.add("stick-table " + t.name());
            } else {
                table = old.resized(t);
            }
            out.put(tableKey(b), table);
        }
        return out;
    }

    /**
     * Gives each table's servers HAProxy's {@code server_id}: a server's position in its backend,
     * as HAProxy numbers servers without {@code id}. A name keeps the first id it was given (a
     * reload that reorders servers does not renumber them).
     */
    private void registerServerIds(ProxySettings s) {
        for (BackendSettings b : s.backends().values()) {
            StickTable table = tables.get(tableKey(b));
            if (table != null) {
                for (int i = 0; i < b.servers().size(); i++) {
                    table.registerServer(b.servers().get(i).name(), i + 1);
                }
            }
        }
    }

    /** A shared table by its name, a backend's own table by the backend's: they may be named alike. */
    private static String tableKey(BackendSettings b) {
        StickTableSettings t = b.stickTable();
        return t == null ? null : t.shared() ? "shared " + t.name() : "backend " + b.name();
    }

    /**
     * Applies {@code next} in place and returns what changed, or throws with every problem and
     * changes nothing. Checked first, all or nothing: every TLS frontend's certificates are read
     * again (so a reload also picks up renewed files), every check address must resolve, and every
     * address that is not listened on yet must bind. Then: frontends matched by name take their new
     * settings for the connections they accept from now on (their running sessions keep theirs),
     * addresses kept stay open without a gap, added ones listen, removed frontends and addresses stop
     * accepting (their sessions go on); backends and servers are matched by name ({@link
     * Backend#reconfigure}); stick tables by name keep their entries; health checks as {@link
     * HealthChecks#reconfigure} says. Settings only a restart applies ({@link #RESTART_ONLY}) keep
     * their running values and are named in the result.
     *
     * @throws ConfigurationException naming each problem; the running configuration stays
     */
    public synchronized Reload reload(ProxySettings next) throws ConfigurationException {
        if (closed) {
            throw new IllegalStateException("mailproxy is stopping");
        }
        ProxySettings before = settings;
        ConfigDiff diff = ConfigDiff.between(before, next);
        List<String> restart = restartOnly(diff);
        TlsContexts read = tlsContexts(next, tlsProvider);
        Map<String, ServerTls> tls = read.frontends();
        // A backend whose tls-to-server is unchanged keeps its context (and its checks theirs).
        Map<String, ClientTls> nextToServers = new LinkedHashMap<>();
        read.backends().forEach((name, fresh) -> {
            BackendSettings was = before.backends().get(name);
            boolean same = was != null && was.tlsToServer().equals(next.backends().get(name).tlsToServer())
                    && toServers.containsKey(name);
            nextToServers.put(name, same ? toServers.get(name) : fresh);
        });
        try {
            HealthChecks.verifyTargets(next.backends().values());
        } catch (HealthChecks.UnresolvedCheckTarget e) {
            throw new ConfigurationException(List.of(new ConfigProblem(next.source().toString(), -1, e.path(),
                    e.getMessage())));
        }
        Map<String, StickTable> nextTables = tablesFor(next, tables, restart);
        Map<String, Backend> current = backends;
        Map<String, Backend> nextBackends = new LinkedHashMap<>();
        for (BackendSettings b : next.backends().values()) {
            Backend kept = current.get(b.name());
            // A new backend is made now so that a new frontend can be bound to it; it takes sessions
            // only once a listener of that frontend is open.
            nextBackends.put(b.name(), kept != null ? kept : new Backend(b, nextTables.get(tableKey(b))));
        }
        Map<String, Listening> nextFrontends = bindChanges(next, nextBackends, tls);
        // Nothing below fails on the configuration: apply.
        warnAboutReadableKeys(next);
        List<String> retired = new ArrayList<>();
        for (BackendSettings b : next.backends().values()) {
            Backend backend = nextBackends.get(b.name());
            if (current.get(b.name()) == backend) {
                backend.reconfigure(b, nextTables.get(tableKey(b))).forEach(s -> retired.add(s.qualifiedName()));
            }
        }
        for (Backend gone : current.values()) {
            if (!nextBackends.containsKey(gone.name())) {
                gone.retire();
            }
        }
        tables = nextTables;
        toServers = nextToServers;
        connector.clientTls(nextToServers);
        backends = nextBackends;
        registerServerIds(next);
        healthChecks.reconfigure(nextBackends.values(), () -> this::runCheck, nextToServers);
        for (FrontendSettings f : next.frontends().values()) {
            Listening l = nextFrontends.get(f.name());
            Listening old = frontends.get(f.name());
            if (old != null) {
                l.frontend().reconfigure(f, nextBackends.get(f.backend()), tls.get(f.name()));
                if (l.count().max() != f.maxConnections()) {
                    gate.changeMax(l.count(), f.maxConnections());
                }
            }
        }
        for (Map.Entry<String, Listening> e : frontends.entrySet()) {
            Listening l = nextFrontends.get(e.getKey());
            for (Map.Entry<BindAddress, Channel> c : e.getValue().channels().entrySet()) {
                if (l == null || l.channels().get(c.getKey()) != c.getValue()) {
                    // closed before the reload returns: from then on nothing is accepted there
                    c.getValue().close().awaitUninterruptibly();
                    LOG.info("frontend " + e.getKey() + ": no longer listening on " + c.getKey().address()
                            + (l == null ? " (frontend removed; its sessions go on)" : ""));
                }
            }
        }
        if (next.maxConnections() != before.maxConnections()) {
            // auto is worked out once, at start: descriptors open now include the sessions'
            int max = next.maxConnections() == ProxySettings.AUTO_MAX_CONNECTIONS ? autoMaxConnections
                    : maxConnections(next);
            gate.changeMax(gate.global(), max);
        }
        for (Listening l : nextFrontends.values()) {
            for (Channel c : l.channels().values()) {
                c.config().setRecvByteBufAllocator(acceptBatch(l.count()));
            }
        }
        frontends = nextFrontends;
        settings = next;
        return new Reload(diff, restart, retired);
    }

    /**
     * The frontends of {@code next} with their listeners: kept addresses keep their channel, new
     * ones are bound now. When one cannot be bound, those bound here are closed again and the
     * problems thrown, and nothing has changed.
     */
    private Map<String, Listening> bindChanges(ProxySettings next, Map<String, Backend> nextBackends,
                                                Map<String, ServerTls> tls) throws ConfigurationException {
        Map<String, Listening> current = frontends;
        // An address that moves to another frontend must be given up before it can be bound again.
        Map<BindAddress, String> owner = new LinkedHashMap<>();
        for (FrontendSettings f : next.frontends().values()) {
            f.bind().forEach(a -> owner.put(a, f.name()));
        }
        Map<String, Listening> out = new LinkedHashMap<>();
        List<Channel> opened = new ArrayList<>();
        List<ConfigProblem> problems = new ArrayList<>();
        for (FrontendSettings f : next.frontends().values()) {
            Listening old = current.get(f.name());
            Listening l = old != null
                    ? new Listening(old.frontend(), old.count(), new LinkedHashMap<>())
                    : new Listening(new Frontend(f, nextBackends.get(f.backend()), tls.get(f.name()), connector, active,
                    sessions, statistics), gate.frontend(f.maxConnections()), new LinkedHashMap<>());
            for (BindAddress address : f.bind()) {
                Channel kept = old == null ? null : old.channels().get(address);
                if (kept != null && kept.isOpen()) {
                    l.channels().put(address, kept);
                    continue;
                }
                for (Map.Entry<String, Listening> other : current.entrySet()) {
                    Channel moved = other.getValue().channels().get(address);
                    if (moved != null && !other.getKey().equals(f.name()) && f.name().equals(owner.get(address))) {
                        // the one gap a reload may leave: an address handed from one frontend to another
                        moved.close().awaitUninterruptibly();
                    }
                }
                int before = problems.size();
                listen(l, address, problems);
                if (problems.size() == before) {
                    opened.add(l.channels().get(address));
                }
            }
            out.put(f.name(), l);
        }
        if (!problems.isEmpty()) {
            opened.forEach(c -> c.close().awaitUninterruptibly());
            throw new ConfigurationException(problems);
        }
        return out;
    }

    @Override
    public String reloadFromFile() {
        Path file = settings.source();
        LOG.info(() -> "reloading " + file);
        try {
            String summary = reload(ConfigLoader.load(file)).summary();
            LOG.info(summary);
            return summary;
        } catch (ConfigurationException e) {
            String refused = "reload refused, the running configuration stays:\n" + e.getMessage();
            LOG.warning(refused);
            return refused;
        } catch (IllegalStateException e) {
            String skipped = "reload skipped: " + e.getMessage();
            LOG.info(skipped);
            return skipped;
        }
    }

    /** The changes among {@link #RESTART_ONLY}, as {@code io-threads}. */
    private static List<String> restartOnly(ConfigDiff diff) {
        List<String> out = new ArrayList<>();
        for (String change : diff.changes()) {
            if (change.startsWith("global changed: ")) {
                for (String key : change.substring("global changed: ".length()).split(", ")) {
                    if (RESTART_ONLY.contains(key) || RESTART_ONLY.stream().anyMatch(k -> key.startsWith(k + "."))) {
                        out.add(key);
                    }
                }
            }
        }
        return out;
    }

    /**
     * What a reload did: the changes, the settings that wait for a restart, the servers removed.
     *
     * @param restartOnly keys that changed but keep their running value until a restart
     * @param retired     {@code backend/server} of each server removed (its sessions go on)
     */
    public record Reload(ConfigDiff changes, List<String> restartOnly, List<String> retired) {
        /** The one line a reload logs. */
        public String summary() {
            String line = "configuration reloaded: " + changes;
            if (!restartOnly.isEmpty()) {
                line += "; changed but applied only at the next restart: " + String.join(", ", restartOnly);
            }
            return line;
        }
    }

    /**
     * The process's session limit: as configured, or with {@code auto} what the open-files limit
     * allows. Logged, with a warning when a configured limit is above what the descriptors allow.
     */
    private static int maxConnections(ProxySettings settings) {
        long descriptors = FileDescriptors.limit();
        int reserve = FileDescriptors.reserve(FileDescriptors.open(), listenerCount(settings), checkedCount(settings));
        int configured = settings.maxConnections();
        if (descriptors < 0) {
            int max = configured == ProxySettings.AUTO_MAX_CONNECTIONS ? 0 : configured;
            LOG.info(() -> "max-connections " + (max == 0 ? "none" : max) + " (the open-files limit is unknown here)");
            return max;
        }
        int allowed = FileDescriptors.sessionsAllowed(descriptors, reserve);
        if (configured == ProxySettings.AUTO_MAX_CONNECTIONS) {
            LOG.info(() -> "max-connections " + allowed + " (auto: the open-files limit " + descriptors
                    + " allows 2 descriptors per session, " + reserve + " kept for the JVM, listeners and checks)");
            return allowed;
        }
        if (configured == 0 || configured > allowed) {
            LOG.warning(() -> "max-connections " + (configured == 0 ? "0 (no limit)" : configured) + " is more than the open-files limit "
                    + descriptors + " allows (" + allowed + " sessions of 2 descriptors, " + reserve
                    + " kept): raise the limit (LimitNOFILE in the systemd unit, ulimit -n) or set max-connections = auto");
        } else {
            LOG.info(() -> "max-connections " + configured + " (the open-files limit " + descriptors + " allows " + allowed + ")");
        }
        return configured;
    }

    private static int listenerCount(ProxySettings settings) {
        return settings.frontends().values().stream().mapToInt(f -> f.bind().size()).sum();
    }

    private static int checkedCount(ProxySettings settings) {
        return settings.backends().values().stream().filter(b -> b.healthCheck().enabled())
                .mapToInt(b -> b.servers().size()).sum();
    }

    /** The stats listener and the runtime API, when configured. */
    private void startManagement() throws ConfigurationException {
        StatsSettings stats = settings.stats();
        AdminSocketSettings admin = settings.adminSocket();
        if ((stats == null || !stats.enabled()) && (admin == null || !admin.enabled())) {
            return;
        }
        management = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        if (stats != null && stats.enabled()) {
            ChannelFuture bound = StatsServer.bind(stats, this, management, NioServerSocketChannel.class).awaitUninterruptibly();
            if (!bound.isSuccess()) {
                throw new ConfigurationException(List.of(stats.bind().problem("cannot listen on " + stats.bind().address()
                        + ": " + Reasons.of(bound.cause()))));
            }
            statsServer = StatsServer.of(bound);
            LOG.info(() -> "statistics on http://" + stats.bind().address() + "/stats (CSV: /stats;csv, Prometheus: /metrics)"
                    + (stats.auth().isEmpty() ? ", no authentication" : "") + (stats.admin() ? ", admin actions on" : ""));
        }
        if (admin != null && admin.enabled()) {
            try {
                adminSocket = AdminSocket.open(admin, new AdminCommands(this));
            } catch (AdminSocket.CannotOpen e) {
                throw new ConfigurationException(List.of(new ConfigProblem(settings.source().toString(), -1,
                        "mailproxy.admin-socket.path", e.getMessage())));
            }
        }
    }

    @Override
    public List<Backend> backendList() {
        return List.copyOf(backends.values());
    }

    @Override
    public Statistics statistics() {
        return statistics;
    }

    @Override
    public int maxConnections() {
        // the limit in force: auto worked out, or as configured
        return gate.global().max();
    }

    @Override
    public long droppedLogLines() {
        return LogSetup.droppedLines();
    }

    /** The addresses actually bound, in configuration order. */
    public List<InetSocketAddress> boundAddresses() {
        List<InetSocketAddress> out = new ArrayList<>();
        for (Listening l : frontends.values()) {
            for (Channel c : l.channels().values()) {
                out.add((InetSocketAddress) c.localAddress());
            }
        }
        return out;
    }

    public Map<String, Backend> backends() {
        return backends;
    }

    /** The configuration running now (the last one applied). */
    public ProxySettings settings() {
        return settings;
    }

    /** The servers' health checks (none for backends with {@code health-check.type = none}). */
    @Override
    public HealthChecks healthChecks() {
        return healthChecks;
    }

    /** The peers section (stick tables shared with other nodes), or null when it is off. */
    public Peers peers() {
        return peers;
    }

    @Override
    public String showPeers() {
        return peers == null ? "" : peers.showPeers();
    }

    /** Sessions that have not ended. */
    @Override
    public int activeSessions() {
        return active.get();
    }

    /** The sessions that have not ended. */
    @Override
    public Sessions sessions() {
        return sessions;
    }

    /** The frontends, in configuration order. */
    @Override
    public List<Frontend> frontends() {
        return frontends.values().stream().map(Listening::frontend).toList();
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
        synchronized (this) {
            // waits for a reload in progress; no reload after this
            if (closed) {
                return;
            }
            closed = true;
        }
        for (Listening l : frontends.values()) {
            for (Channel c : l.channels().values()) {
                c.close().awaitUninterruptibly();
            }
        }
        if (statsServer != null) {
            statsServer.close();
        }
        if (adminSocket != null) {
            adminSocket.close();
        }
        sessions.stopAll();
        Duration longest = Duration.ZERO;
        for (Frontend f : frontends()) {
            longest = f.settings().shutdownGrace().compareTo(longest) > 0 ? f.settings().shutdownGrace() : longest;
        }
        if (!sessions.awaitEmpty(longest.plus(STOP_MARGIN))) {
            sessions.killAll("mailproxy is stopping: the session did not end within its shutdown-grace");
            sessions.awaitEmpty(STOP_MARGIN);
        }
        if (certificates != null) {
            certificates.close();
        }
        if (healthChecks != null) {
            healthChecks.close();
        }
        if (peers != null) {
            peers.close();
        }
        if (management != null) {
            management.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        }
        acceptors.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        workers.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly();
    }
}
