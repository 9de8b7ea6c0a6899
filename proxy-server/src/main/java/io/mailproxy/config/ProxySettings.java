package io.mailproxy.config;

import io.mailproxy.mail.MailProtocol;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A whole, validated configuration: what a running proxy is built from.
 *
 * @param stickTables the stick tables named under {@code mailproxy.stick-tables}, which backends
 *                    share by naming them; each is built once
 * @param log         where and how lines are logged
 * @param maxConnections the most sessions of the whole process at once, 0 = no limit,
 *                    {@link #AUTO_MAX_CONNECTIONS} = what the open-files limit allows; above it no
 *                    listener accepts (new connections wait in the kernel's backlog)
 * @param runAsRoot   whether {@code mailproxy run} may run as root
 * @param stats       the statistics listener (HTML, CSV, /metrics)
 * @param adminSocket the runtime API's unix socket
 * @param peers       the nodes synced stick tables are shared with (off unless its bind is set)
 */
public record ProxySettings(Path source, TlsEngine tlsEngine, int ioThreads, IoTransport ioTransport, LogSettings log,
                            Map<String, FrontendSettings> frontends, Map<String, BackendSettings> backends,
                            Map<String, StickTableSettings> stickTables, int maxConnections, boolean runAsRoot,
                            StatsSettings stats, AdminSocketSettings adminSocket, PeersSettings peers) {

    /** {@code max-connections = auto}: derived from the open-files limit when the proxy starts. */
    public static final int AUTO_MAX_CONNECTIONS = -1;

    public ProxySettings {
        stickTables = Collections.unmodifiableMap(new LinkedHashMap<>(stickTables));
        // Keeps the file's order: listeners bind and log in the order they were written.
        frontends = Collections.unmodifiableMap(new LinkedHashMap<>(frontends));
        backends = Collections.unmodifiableMap(new LinkedHashMap<>(backends));
    }

    /** {@code mailproxy} itself, read from {@code source}. */
    static ProxySettings read(ConfigReader r, Path source) {
        TlsEngine tlsEngine = r.enumValue("tls-engine", TlsEngine.class);
        int ioThreads = r.intIn("io-threads", 0, 4096);
        IoTransport ioTransport = r.enumValue("io-transport", IoTransport.class);
        LogSettings log = r.object("log", LogSettings::read);
        int maxConnections = r.parsed("max-connections", ProxySettings::maxConnections);
        boolean runAsRoot = r.bool("run-as-root");
        Map<MailProtocol, ProtocolDefaults> protocols = new EnumMap<>(MailProtocol.class);
        for (MailProtocol p : MailProtocol.values()) {
            ProtocolDefaults d = r.object("protocol-defaults." + p.configName(), ProtocolDefaults::read);
            if (d != null) {
                protocols.put(p, d);
            }
        }
        Map<String, StickTableSettings> stickTables = r.map("stick-tables", t -> StickTableSettings.read(t, t.name(), true));
        List<String> tableNames = r.names("stick-tables");
        Map<String, BackendSettings> backends = r.map("backends", b -> BackendSettings.read(b, stickTables, tableNames));
        List<String> backendNames = r.names("backends");
        Map<String, FrontendSettings> frontends = r.map("frontends", f -> FrontendSettings.read(f, protocols, backendNames));
        if (r.isEmpty("frontends")) {
            r.problem("frontends", "no frontend is configured");
        }
        checkDistinctBinds(r, frontends.values());
        StatsSettings stats = r.object("stats", StatsSettings::read);
        AdminSocketSettings adminSocket = r.object("admin-socket", AdminSocketSettings::read);
        PeersSettings peers = r.object("peers", PeersSettings::read);
        checkSyncedTables(r, peers, stickTables, backends.values());
        return new ProxySettings(source, tlsEngine, ioThreads, ioTransport, log, frontends, backends, stickTables,
                maxConnections, runAsRoot, stats, adminSocket, peers);
    }

    /** {@code auto}, or a whole number from 0 (no limit). */
    private static int maxConnections(String text) {
        String t = text.trim();
        if (t.equals("auto")) {
            return AUTO_MAX_CONNECTIONS;
        }
        try {
            int n = Integer.parseInt(t);
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalArgumentException("expected auto, 0 (no limit) or a number of sessions, found " + text);
    }

    /**
     * A table with {@code peers = true} needs the peers section on, and a name no other synced
     * table has: the name is how peers (HAProxy too) tell tables apart.
     */
    private static void checkSyncedTables(ConfigReader r, PeersSettings peers, Map<String, StickTableSettings> shared,
                                          Collection<BackendSettings> backends) {
        Map<String, String> synced = new HashMap<>();
        java.util.List<java.util.Map.Entry<String, StickTableSettings>> tables = new java.util.ArrayList<>();
        shared.forEach((name, t) -> tables.add(Map.entry("stick-tables." + name, t)));
        for (BackendSettings b : backends) {
            if (b.stickTable() != null && !b.stickTable().shared()) {
                tables.add(Map.entry("backends." + b.name() + ".stick-table", b.stickTable()));
            }
        }
        for (Map.Entry<String, StickTableSettings> e : tables) {
            StickTableSettings t = e.getValue();
            if (!t.peers()) {
                continue;
            }
            if (peers != null && !peers.enabled()) {
                r.problem(e.getKey() + ".peers", "the table is synced, but no peers are configured (mailproxy.peers.bind)");
            }
            String other = synced.putIfAbsent(t.name(), e.getKey());
            if (other != null) {
                r.problem(e.getKey() + ".peers", "another synced table is named \"" + t.name() + "\" (" + other
                        + "): peers tell tables apart by name");
            }
        }
    }

    private static void checkDistinctBinds(ConfigReader r, Collection<FrontendSettings> frontends) {
        Map<String, BindAddress> seen = new HashMap<>();
        for (FrontendSettings f : frontends) {
            for (BindAddress b : f.bind()) {
                BindAddress earlier = seen.putIfAbsent(b.address().toString(), b);
                if (earlier != null) {
                    r.problem(b.origin(), b.path(), b.address() + " is already bound by " + earlier.path()
                            + " (line " + earlier.origin().lineNumber() + ")");
                }
            }
        }
    }
}
