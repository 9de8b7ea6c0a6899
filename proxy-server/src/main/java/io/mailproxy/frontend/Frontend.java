package io.mailproxy.frontend;

import io.mailproxy.backend.Backend;
import io.mailproxy.backend.BackendConnector;
import io.mailproxy.config.AcceptProxySettings;
import io.mailproxy.config.FrontendSettings;
import io.mailproxy.limit.RateLimiter;
import io.mailproxy.limit.SourceLimiter;
import io.mailproxy.proxyprotocol.ProxyProtocolDecoder;
import io.mailproxy.session.InboundAddresses;
import io.mailproxy.session.PipelineNames;
import io.mailproxy.session.Session;
import io.mailproxy.session.SessionContext;
import io.mailproxy.session.Sessions;
import io.mailproxy.session.StartHandler;
import io.mailproxy.starttls.PreTlsHandler;
import io.mailproxy.stats.Statistics;
import io.mailproxy.tls.ServerTls;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A frontend at run time: makes each accepted connection a {@link Session} and builds its pipeline.
 * A reload may give it new settings, a new backend or new certificates ({@link #reconfigure},
 * {@link #certificates}): connections accepted from then on use them, sessions already running keep
 * what they started with.
 */
public final class Frontend extends ChannelInitializer<Channel> {

    /**
     * What a new connection is made with; replaced whole, read once per connection.
     *
     * @param hostName the name a STARTTLS LMTP frontend greets with, else null
     */
    private record Live(FrontendSettings settings, ServerTls tls, SessionContext context, String hostName) {
    }

    private final AtomicInteger frontendActive = new AtomicInteger();
    private volatile Live live;

    public Frontend(FrontendSettings settings, Backend backend, ServerTls tls, BackendConnector connector,
                    AtomicInteger processActive, Sessions registry, Statistics statistics) {
        this.live = new Live(settings, tls, new SessionContext(settings, backend, connector, processActive,
                frontendActive, sourceLimiter(settings), rateLimiter(settings), registry, statistics), hostName(settings));
    }

    /** {@code tls.starttls.host-name}, or this machine's name (looked up once, at start and reload); null without STARTTLS. */
    private static String hostName(FrontendSettings settings) {
        if (!settings.tls().mode().startTls()) {
            return null;
        }
        String configured = settings.tls().startTls().hostName();
        if (configured != null) {
            return configured;
        }
        try {
            return InetAddress.getLocalHost().getCanonicalHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }

    private static SourceLimiter sourceLimiter(FrontendSettings settings) {
        return settings.maxConnectionsPerSource() == 0 ? null : new SourceLimiter(settings.maxConnectionsPerSource());
    }

    private static RateLimiter rateLimiter(FrontendSettings settings) {
        return settings.rateLimitPerSource() == null ? null : new RateLimiter(settings.rateLimitPerSource());
    }

    /**
     * A reload kept this frontend (same name) with {@code next} settings, {@code backend} and
     * {@code tls}. Per-source counts carry over when their limits are unchanged; a changed limit
     * starts counting afresh (sessions running give back to the count they were taken from).
     */
    public void reconfigure(FrontendSettings next, Backend backend, ServerTls tls) {
        Live now = live;
        SessionContext c = now.context();
        SourceLimiter sources = now.settings().maxConnectionsPerSource() == next.maxConnectionsPerSource()
                ? c.sources() : sourceLimiter(next);
        RateLimiter rates = java.util.Objects.equals(now.settings().rateLimitPerSource(), next.rateLimitPerSource())
                ? c.rates() : rateLimiter(next);
        live = new Live(next, tls, new SessionContext(next, backend, c.connector(), c.processActive(), frontendActive,
                sources, rates, c.registry(), c.statistics()), hostName(next));
    }

    /** New certificates (their files changed): handshakes from now on present them. */
    public void certificates(ServerTls tls) {
        Live now = live;
        live = new Live(now.settings(), tls, now.context(), now.hostName());
    }

    /** The certificates new handshakes present, or null without TLS. */
    public ServerTls tls() {
        return live.tls();
    }

    public FrontendSettings settings() {
        return live.settings();
    }

    public Backend backend() {
        return live.context().backend();
    }

    /** Sessions of this frontend that have not ended. */
    public int activeSessions() {
        return frontendActive.get();
    }

    /** The counters of the whole proxy, this frontend's among them. */
    public Statistics statistics() {
        return live.context().statistics();
    }

    /** The per-source connection limit, or null when the frontend has none. */
    public SourceLimiter sourceLimiter() {
        return live.context().sources();
    }

    @Override
    protected void initChannel(Channel ch) {
        Live now = live;
        Session session = new Session(ch, now.context());
        ChannelPipeline p = ch.pipeline();
        AcceptProxySettings acceptProxy = now.settings().acceptProxy();
        if (acceptProxy != null) {
            p.addLast(PipelineNames.PROXY_TRUST, new TrustedPeerFilter(acceptProxy, session));
            p.addLast(PipelineNames.PROXY_DECODER, new ProxyProtocolDecoder(acceptProxy.maxHeaderSize()));
            p.addLast(PipelineNames.PROXY_ACCEPT, new AcceptProxyHandler(session,
                    (pipeline, s, addresses) -> headerAccepted(pipeline, s, addresses, now)));
            session.expectHeader(acceptProxy.timeout());
            return;
        }
        addSessionHandlers(p, session, null, now);
    }

    /** The PROXY header is in: the session's own handlers follow, unless a per-source limit refuses it. */
    private static void headerAccepted(ChannelPipeline p, Session session, InboundAddresses addresses, Live now) {
        session.headerReceived(addresses);
        if (session.admitSource()) {
            addSessionHandlers(p, session, addresses, now);
        }
    }

    /** TLS (or the dialogue before STARTTLS) and the session's start, at the end of {@code p}. */
    private static void addSessionHandlers(ChannelPipeline p, Session session, InboundAddresses inbound, Live now) {
        StartHandler start = new StartHandler(session, inbound);
        FrontendSettings settings = now.settings();
        ServerTls tls = now.tls();
        if (settings.tls().implicit()) {
            p.addLast(PipelineNames.TLS_GUARD, tls.newGuard());
            p.addLast(PipelineNames.TLS, tls.newHandler());
        } else if (settings.tls().mode().startTls()) {
            p.addLast(PipelineNames.PRE_TLS, new PreTlsHandler(settings.protocol(),
                    settings.tls().mode() == io.mailproxy.config.TlsMode.STARTTLS_OPTIONAL, now.hostName(), start,
                    preTls -> installTls(preTls, tls)));
        }
        p.addLast(PipelineNames.START, start);
    }

    /** After STARTTLS: the guard and the certificate selector go in front of the dialogue's handler. */
    private static void installTls(ChannelHandlerContext preTls, ServerTls tls) {
        ChannelPipeline p = preTls.pipeline();
        p.addBefore(preTls.name(), PipelineNames.TLS_GUARD, tls.newGuard());
        p.addBefore(preTls.name(), PipelineNames.TLS, tls.newHandler());
    }
}
