package io.mailproxy.stats.report;

import io.mailproxy.backend.Backend;
import io.mailproxy.frontend.Frontend;
import io.mailproxy.health.HealthChecks;
import io.mailproxy.session.Sessions;
import io.mailproxy.stats.Statistics;
import java.util.List;

/** What the statistics read of a running proxy; the proxy implements it (so this package never imports it). */
public interface ProxyView {

    /** Frontends in configuration order. */
    List<Frontend> frontends();

    /** Backends in configuration order. */
    List<Backend> backendList();

    Sessions sessions();

    HealthChecks healthChecks();

    Statistics statistics();

    /** Sessions of the whole process that have not ended. */
    int activeSessions();

    /** The process's session limit in force ({@code max-connections}, auto worked out), 0 = no limit. */
    int maxConnections();

    /** Log lines dropped because the output did not keep up. */
    long droppedLogLines();

    /**
     * Reads the configuration file again and applies it in place (what SIGHUP does); returns the
     * summary line, or why it was refused (the running configuration then stays).
     */
    String reloadFromFile();

    /** HAProxy's {@code show peers}: the peers section and each peer's state; empty without peers. */
    String showPeers();
}
