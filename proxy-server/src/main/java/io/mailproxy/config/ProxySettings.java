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
 */
public record ProxySettings(Path source, TlsEngine tlsEngine, int ioThreads, IoTransport ioTransport, LogSettings log,
                            Map<String, FrontendSettings> frontends, Map<String, BackendSettings> backends,
                            Map<String, StickTableSettings> stickTables, int maxConnections, boolean runAsRoot,
                            StatsSettings stats, AdminSocketSettings adminSocket) {

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
        return new ProxySettings(source, tlsEngine, ioThreads, ioTransport, log, frontends, backends, stickTables,
                maxConnections, runAsRoot, stats, adminSocket);
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
