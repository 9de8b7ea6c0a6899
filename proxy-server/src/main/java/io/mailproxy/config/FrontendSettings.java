package io.mailproxy.config;

import io.mailproxy.mail.MailProtocol;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What one frontend listens on, speaks and hands its sessions to.
 *
 * @param acceptProxy the PROXY header every client must send first, or null when the frontend
 *     accepts none (then one is never looked for: the spec forbids guessing)
 * @param maxConnections the most sessions of this frontend at once, 0 = no limit; above it new
 *     connections wait in the kernel's backlog
 * @param rateLimitPerSource the most new connections one client address may open in a sliding
 *     window, or null: no limit
 * @param maxConnectionsPerSource the most connections one client address may hold at once, 0 = no limit
 * @param sourceIpv6Prefix the prefix length by which IPv6 client addresses are grouped for the
 *     per-source limits
 * @param clientFinTimeout while a session closes, how long the client may take nothing of what is left
 * @param shutdownGrace how long a stop lets this frontend's sessions end by themselves
 */
public record FrontendSettings(String name, List<BindAddress> bind, MailProtocol protocol, TlsSettings tls,
                               String backend, Duration idleTimeout, AcceptProxySettings acceptProxy,
                               int maxConnections, RateLimit rateLimitPerSource, int maxConnectionsPerSource,
                               int sourceIpv6Prefix, Duration clientFinTimeout, Duration shutdownGrace) {
    public FrontendSettings {
        bind = List.copyOf(bind);
        if (bind.isEmpty()) {
            throw new IllegalArgumentException("a frontend needs at least one bind address");
        }
        if (maxConnectionsPerSource < 0 || sourceIpv6Prefix < 1 || sourceIpv6Prefix > 128) {
            throw new IllegalArgumentException("max-connections-per-source or source-ipv6-prefix out of range");
        }
        if (maxConnections < 0) {
            throw new IllegalArgumentException("max-connections must not be negative");
        }
    }

    /**
     * An entry of {@code mailproxy.frontends}, over {@code mailproxy.defaults.frontend}.
     *
     * @param protocols what null {@code timeout.idle} and {@code shutdown-grace} mean, by protocol
     *     (a protocol whose defaults did not read is missing: that was reported)
     * @param backendNames the names under {@code mailproxy.backends}
     */
    static FrontendSettings read(ConfigReader r, Map<MailProtocol, ProtocolDefaults> protocols, List<String> backendNames) {
        List<BindAddress> bind = r.stringsWithOrigin("bind",
                (text, origin) -> new BindAddress(HostPort.parse(text).requireResolvable(), r.path("bind"), origin));
        if (r.isEmpty("bind")) {
            r.problem("bind", "at least one address to listen on is required, e.g. [\"0.0.0.0:993\"]");
        }
        MailProtocol protocol = r.enumValue("protocol", MailProtocol.class);
        String backend = r.string("backend");
        if (backend.isEmpty()) {
            r.problem("backend", "a backend is required (one of " + backendNames + ")");
        } else if (!backendNames.contains(backend)) {
            r.problem("backend", "no backend named \"" + backend + "\" " + (backendNames.isEmpty()
                    ? "(no backend is configured)" : "(known: " + String.join(", ", backendNames) + ")"));
        }
        TlsSettings tls = r.object("tls", TlsSettings::read);
        ProtocolDefaults byProtocol = protocols.get(protocol);
        Duration idle = r.optionalDuration("timeout.idle");
        if (idle == null && byProtocol != null) {
            idle = byProtocol.idleTimeout();
        }
        Duration grace = r.optionalDurationOrZero("shutdown-grace");
        if (grace == null && byProtocol != null) {
            grace = byProtocol.shutdownGrace();
        }
        Duration clientFin = r.duration("timeout.client-fin");
        int perSource = r.intIn("max-connections-per-source", 0, Integer.MAX_VALUE);
        int ipv6Prefix = r.intIn("source-ipv6-prefix", 1, 128);
        AcceptProxySettings acceptProxy = r.object("accept-proxy", AcceptProxySettings::read);
        int maxConnections = r.intIn("max-connections", 0, Integer.MAX_VALUE);
        RateLimit rateLimit = r.optionalParsed("rate-limit-per-source", RateLimit::parse);
        return new FrontendSettings(r.name(), bind, protocol, tls, backend, idle, acceptProxy, maxConnections, rateLimit,
                perSource, ipv6Prefix, clientFin, grace);
    }
}
