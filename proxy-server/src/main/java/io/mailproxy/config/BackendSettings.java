package io.mailproxy.config;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * A pool of servers and how sessions are placed on them.
 *
 * @param hashType       how {@link Balance#SOURCE} maps a client address hash to a server (HAProxy's {@code hash-type})
 * @param allBackups     with no normal server usable: spread over every usable backup, not only the first
 * @param onMarkedDown   what happens to a server's sessions when its health check marks it DOWN
 * @param healthCheck    how the servers are checked ({@link HealthCheckSettings.Type#NONE}: not at all)
 * @param proxyV2Options what a v2 PROXY header carries beyond the default (HAProxy's {@code proxy-v2-options})
 * @param stickTable     the stick table keeping each client address on one server, or null: none
 * @param redispatch     a session stuck to a server may make its last retry on another server
 * @param queueTimeout   the longest a session waits in the queue for a free connection slot
 * @param greetingTimeout how long a connected server may take to send its first bytes, or null: not awaited
 * @param serverFinTimeout after the client half-closed, or while closing, how long the server may stay silent
 * @param tlsToServer    TLS from mailproxy to the servers (after the PROXY header), which the checks speak too
 */
public record BackendSettings(String name, Balance balance, HashType hashType, SendProxy sendProxy, int retries,
                              Duration connectTimeout, List<ServerSettings> servers,
                              boolean allBackups, OnMarkedDown onMarkedDown, HealthCheckSettings healthCheck,
                              Set<ProxyV2Option> proxyV2Options,
                              StickTableSettings stickTable, boolean redispatch,
                              Duration queueTimeout, Duration greetingTimeout, Duration serverFinTimeout,
                              BackendTlsSettings tlsToServer) {
    public BackendSettings {
        servers = List.copyOf(servers);
        proxyV2Options = Set.copyOf(proxyV2Options);
        Objects.requireNonNull(hashType, "hashType");
        Objects.requireNonNull(onMarkedDown, "onMarkedDown");
        Objects.requireNonNull(healthCheck, "healthCheck");
        Objects.requireNonNull(queueTimeout, "queueTimeout");
        Objects.requireNonNull(serverFinTimeout, "serverFinTimeout");
        Objects.requireNonNull(tlsToServer, "tlsToServer");
        if (servers.isEmpty()) {
            throw new IllegalArgumentException("a backend needs at least one server");
        }
        if (retries < 0) {
            throw new IllegalArgumentException("retries must not be negative");
        }
    }

    /**
     * An entry of {@code mailproxy.backends}, over {@code mailproxy.defaults.backend}.
     *
     * @param sharedTables the tables of {@code mailproxy.stick-tables} that read without a problem
     * @param tableNames the names of all of them
     */
    static BackendSettings read(ConfigReader r, Map<String, StickTableSettings> sharedTables, List<String> tableNames) {
        Balance balance = r.enumValue("balance", Balance.class);
        HashType hashType = r.enumValue("hash-type", HashType.class);
        SendProxy sendProxy = r.enumValue("send-proxy", SendProxy.class);
        int retries = r.intIn("retries", 0, 100);
        Duration connect = r.duration("timeout.connect");
        Duration queue = r.optionalDuration("timeout.queue");
        Duration greeting = r.optionalDuration("timeout.server-greeting");
        Duration serverFin = r.duration("timeout.server-fin");
        boolean redispatch = r.bool("redispatch");
        boolean allBackups = r.bool("all-backups");
        OnMarkedDown onMarkedDown = r.enumValue("on-marked-down", OnMarkedDown.class);
        HealthCheckSettings healthCheck = r.object("health-check", HealthCheckSettings::read);
        BackendTlsSettings tlsToServer = r.object("tls-to-server", BackendTlsSettings::read);
        if (tlsToServer != null && healthCheck != null && tlsToServer.enabled()
                && healthCheck.tls() == io.mailproxy.checks.CheckTls.Mode.STARTTLS) {
            r.problem("health-check.tls", "the servers speak TLS from the first byte (tls-to-server.enabled): "
                    + "their checks do too; leave health-check.tls unset or set it to implicit");
        }
        StickTableSettings stickTable = stickTable(r, sharedTables, tableNames);
        Set<String> serverNames = new HashSet<>();
        List<ServerSettings> servers = r.list("servers", s -> {
            String name = s.string("name");
            if (!name.isEmpty() && !serverNames.add(name)) {
                s.problem("name", "another server of this backend is named \"" + name + "\"");
            }
            return ServerSettings.read(s);
        });
        if (r.isEmpty("servers")) {
            r.problem("servers", "at least one server is required");
        }
        Set<ProxyV2Option> proxyV2Options = Set.copyOf(r.strings("proxy-v2-options", ProxyV2Option::fromConfigName));
        if (!proxyV2Options.isEmpty() && (sendProxy == SendProxy.NONE || sendProxy == SendProxy.V1)) {
            r.problem("proxy-v2-options", "needs a v2 header: send-proxy is " + sendProxy.name().toLowerCase().replace('_', '-')
                    + ", use v2, v2-ssl or v2-ssl-cn");
        }
        // HAProxy: without `timeout queue` the connect timeout bounds the wait in the queue too.
        return new BackendSettings(r.name(), balance, hashType, sendProxy, retries, connect, servers, allBackups,
                onMarkedDown, healthCheck, proxyV2Options, stickTable, redispatch, queue == null ? connect : queue,
                greeting, serverFin, tlsToServer);
    }

    /** {@code stick-table}: null, the name of a shared table, or a table of this backend's own. */
    private static StickTableSettings stickTable(ConfigReader r, Map<String, StickTableSettings> shared,
                                                 List<String> tableNames) {
        if (r.isObject("stick-table")) {
            return r.object("stick-table", t -> StickTableSettings.read(t, r.name(), false));
        }
        String table = r.optionalString("stick-table");
        if (table != null && !tableNames.contains(table)) {
            r.problem("stick-table", "no stick table \"" + table + "\" under mailproxy.stick-tables"
                    + (tableNames.isEmpty() ? "" : " (one of " + new TreeSet<>(tableNames) + ")"));
        }
        // A named table with a problem was reported where it is defined.
        return table == null ? null : shared.get(table);
    }
}
