package io.mailproxy.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** A whole, validated configuration: what a running proxy is built from. */
public record ProxySettings(Path source, TlsEngine tlsEngine, int ioThreads, IoTransport ioTransport, Duration shutdownGrace,
                            Map<String, FrontendSettings> frontends, Map<String, BackendSettings> backends) {
    public ProxySettings {
        // Keeps the file's order: listeners bind and log in the order they were written.
        frontends = Collections.unmodifiableMap(new LinkedHashMap<>(frontends));
        backends = Collections.unmodifiableMap(new LinkedHashMap<>(backends));
    }
}
