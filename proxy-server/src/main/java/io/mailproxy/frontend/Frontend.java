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
import io.mailproxy.tls.ServerTls;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.atomic.AtomicInteger;

/** A frontend at run time: makes each accepted connection a {@link Session} and builds its pipeline. */
public final class Frontend extends ChannelInitializer<Channel> {

    private final FrontendSettings settings;
    private final ServerTls tls;
    private final SessionContext context;
    /** The name a STARTTLS LMTP frontend greets with. */
    private final String hostName;

    public Frontend(FrontendSettings settings, Backend backend, ServerTls tls, BackendConnector connector,
                    AtomicInteger processActive, Sessions registry) {
        this.settings = settings;
        this.tls = tls;
        this.context = new SessionContext(settings, backend, connector, processActive, new AtomicInteger(),
                settings.maxConnectionsPerSource() == 0 ? null : new SourceLimiter(settings.maxConnectionsPerSource()),
                settings.rateLimitPerSource() == null ? null : new RateLimiter(settings.rateLimitPerSource()),
                registry);
        this.hostName = settings.tls().mode().startTls() ? hostName(settings) : null;
    }

    /** {@code tls.starttls.host-name}, or this machine's name (looked up once, at start). */
    private static String hostName(FrontendSettings settings) {
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

    /** TLS (or the dialogue before STARTTLS) and the session's start, at the end of {@code p}. */
    private void addSessionHandlers(ChannelPipeline p, Session session, InboundAddresses inbound) {
        StartHandler start = new StartHandler(session, inbound);
        if (settings.tls().implicit()) {
            p.addLast(PipelineNames.TLS_GUARD, tls.newGuard());
            p.addLast(PipelineNames.TLS, tls.newHandler());
        } else if (settings.tls().mode().startTls()) {
            p.addLast(PipelineNames.PRE_TLS, new PreTlsHandler(settings.protocol(),
                    settings.tls().mode() == io.mailproxy.config.TlsMode.STARTTLS_OPTIONAL, hostName, start,
                    this::installTls));
        }
        p.addLast(PipelineNames.START, start);
    }

    /** After STARTTLS: the guard and the certificate selector go in front of the dialogue's handler. */
    private void installTls(ChannelHandlerContext preTls) {
        ChannelPipeline p = preTls.pipeline();
        p.addBefore(preTls.name(), PipelineNames.TLS_GUARD, tls.newGuard());
        p.addBefore(preTls.name(), PipelineNames.TLS, tls.newHandler());
    }
}
