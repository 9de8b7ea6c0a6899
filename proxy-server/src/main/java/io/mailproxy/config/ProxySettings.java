package io.mailproxy.config;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A whole, validated configuration: what a running proxy is built from.
 *
 * @param stickTables the stick tables named under {@code mailproxy.stick-tables}, which backends
 *                    share by naming them; each is built once
 * @param log         where and how lines are logged
 * @param maxConnections the most sessions of the whole process at once, 0 = no limit; above it no
 *                    listener accepts (new connections wait in the kernel's backlog)
 */
public record ProxySettings(Path source, TlsEngine tlsEngine, int ioThreads, IoTransport ioTransport, LogSettings log,
                            Map<String, FrontendSettings> frontends, Map<String, BackendSettings> backends,
                            Map<String, io.mailproxy.stick.StickTableSettings> stickTables, int maxConnections) {
    public ProxySettings {
        stickTables = Collections.unmodifiableMap(new LinkedHashMap<>(stickTables));
        // Keeps the file's order: listeners bind and log in the order they were written.
        frontends = Collections.unmodifiableMap(new LinkedHashMap<>(frontends));
        backends = Collections.unmodifiableMap(new LinkedHashMap<>(backends));
    }
}
