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
import io.mailproxy.stats.Statistics;
import io.mailproxy.tls.ServerTls;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import java.util.concurrent.atomic.AtomicInteger;

/** A frontend at run time: makes each accepted connection a {@link Session} and builds its pipeline. */
public final class Frontend extends ChannelInitializer<Channel> {

    private final FrontendSettings settings;
    private final ServerTls tls;
    private final SessionContext context;

    public Frontend(FrontendSettings settings, Backend backend, ServerTls tls, BackendConnector connector,
                    AtomicInteger processActive, Sessions registry, Statistics statistics) {
        this.settings = settings;
        this.tls = tls;
        this.context = new SessionContext(settings, backend, connector, processActive, new AtomicInteger(),
                settings.maxConnectionsPerSource() == 0 ? null : new SourceLimiter(settings.maxConnectionsPerSource()),
                settings.rateLimitPerSource() == null ? null : new RateLimiter(settings.rateLimitPerSource()),
                registry, statistics);
    }

    public FrontendSettings settings() {
        return settings;
    }

    public Backend backend() {
        return context.backend();
    }

    /** Sessions of this frontend that have not ended. */
    public int activeSessions() {
        return context.frontendActive().get();
    }

    /** The counters of the whole proxy, this frontend's among them. */
    public Statistics statistics() {
        return context.statistics();
    }

    /** The per-source connection limit, or null when the frontend has none. */
    public SourceLimiter sourceLimiter() {
        return context.sources();
    }

    @Override
    protected void initChannel(Channel ch) {
        Session session = new Session(ch, context);
        ChannelPipeline p = ch.pipeline();
        AcceptProxySettings acceptProxy = settings.acceptProxy();
        if (acceptProxy != null) {
            p.addLast(PipelineNames.PROXY_TRUST, new TrustedPeerFilter(acceptProxy, session));
            p.addLast(PipelineNames.PROXY_DECODER, new ProxyProtocolDecoder(acceptProxy.maxHeaderSize()));
            p.addLast(PipelineNames.PROXY_ACCEPT, new AcceptProxyHandler(session, this::headerAccepted));
            session.expectHeader(acceptProxy.timeout());
            return;
        }
        addSessionHandlers(p, session, null);
    }

    /** The PROXY header is in: the session's own handlers follow, unless a per-source limit refuses it. */
    private void headerAccepted(ChannelPipeline p, Session session, InboundAddresses addresses) {
        session.headerReceived(addresses);
        if (session.admitSource()) {
            addSessionHandlers(p, session, addresses);
        }
    }

    /** TLS and the session's start, at the end of {@code p}. */
    private void addSessionHandlers(ChannelPipeline p, Session session, InboundAddresses inbound) {
        if (tls != null) {
            p.addLast(PipelineNames.TLS, tls.newHandler());
        }
        p.addLast(PipelineNames.START, new StartHandler(session, inbound));
    }
}
