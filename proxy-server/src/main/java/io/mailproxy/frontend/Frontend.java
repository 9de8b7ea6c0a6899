package io.mailproxy.frontend;

import io.mailproxy.backend.Backend;
import io.mailproxy.backend.BackendConnector;
import io.mailproxy.config.AcceptProxySettings;
import io.mailproxy.config.FrontendSettings;
import io.mailproxy.limit.ConnectionGate;
import io.mailproxy.limit.RateLimiter;
import io.mailproxy.log.SessionLog;
import io.mailproxy.log.Termination;
import io.mailproxy.proxyprotocol.ProxyProtocolDecoder;
import io.mailproxy.relay.Session;
import io.mailproxy.tls.ServerTls;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** A frontend at run time: builds each client's pipeline and counts its sessions. */
public final class Frontend extends ChannelInitializer<Channel> {

    private final FrontendSettings settings;
    private final Backend backend;
    private final ServerTls tls;
    private final BackendConnector connector;
    private final ChannelGroup clients;
    private final AtomicInteger processActive;
    private final AtomicInteger active = new AtomicInteger();
    /** The frontend's {@code rate-limit-per-source}, or null. */
    private final RateLimiter rateLimiter;

    public Frontend(FrontendSettings settings, Backend backend, ServerTls tls, BackendConnector connector,
                    ChannelGroup clients, AtomicInteger processActive) {
        this.settings = settings;
        this.backend = backend;
        this.tls = tls;
        this.connector = connector;
        this.clients = clients;
        this.processActive = processActive;
        this.rateLimiter = settings.rateLimitPerSource() == null ? null : new RateLimiter(settings.rateLimitPerSource());
    }

    /** The per-source connection rate limit, or null when the frontend has none. */
    RateLimiter rateLimiter() {
        return rateLimiter;
    }

    public FrontendSettings settings() {
        return settings;
    }

    public Backend backend() {
        return backend;
    }

    /** Sessions of this frontend that have not ended. */
    public int activeSessions() {
        return active.get();
    }

    @Override
    protected void initChannel(Channel ch) {
        clients.add(ch);
        ChannelPipeline p = ch.pipeline();
        AcceptProxySettings acceptProxy = settings.acceptProxy();
        if (acceptProxy != null) {
            AcceptProxyEvents events = new Events();
            p.addLast(PipelineNames.PROXY_TRUST, new TrustedPeerFilter(acceptProxy, events));
            p.addLast(PipelineNames.PROXY_DECODER, new ProxyProtocolDecoder(acceptProxy.maxHeaderSize()));
            p.addLast(PipelineNames.PROXY_ACCEPT, new AcceptProxyHandler(acceptProxy, events));
            return;
        }
        addSessionHandlers(p, null);
    }

    /** TLS, idle timeout and the session's start, at the end of {@code p}. */
    private void addSessionHandlers(ChannelPipeline p, InboundAddresses inbound) {
        if (tls != null) {
            p.addLast(PipelineNames.TLS, tls.newHandler());
        }
        p.addLast(PipelineNames.IDLE, new IdleStateHandler(0, 0, settings.idleTimeout().toMillis(), TimeUnit.MILLISECONDS));
        p.addLast(PipelineNames.START, new StartHandler(this, connector, inbound));
    }

    /** The accept-proxy handlers' outcomes: a session begins, or one line says why not. */
    private final class Events implements AcceptProxyEvents {
        @Override
        public void accepted(ChannelPipeline pipeline, InboundAddresses addresses) {
            addSessionHandlers(pipeline, addresses);
        }

        @Override
        public void refused(InetSocketAddress peer, long acceptedAtMillis, long elapsedMillis,
                            Termination reason, String detail) {
            // The connection never became a session (no counters moved), but it gets the same
            // tcplog-shaped line, so that one connection is always one line.
            SessionLog line = new SessionLog(peer, acceptedAtMillis, settings.name(), tls != null, backend.name(),
                    null, -1, elapsedMillis, 0, 0, reason, processActive.get(), active.get(),
                    backend.active().get(), 0, 0, detail);
            if (reason == Termination.PROXY_EMPTY) {
                SessionLog.LOGGER.info(line.format());
            } else {
                SessionLog.LOGGER.warning(line.format());
            }
        }
    }

    Session newSession(Channel client) {
        Session session = new Session(client, settings.name(), tls != null, backend, processActive, active);
        ConnectionGate.Slot slot = ConnectionGate.slotOf(client);
        if (slot != null) {
            // the connection's slot is the session's now: free once the session has ended and is logged
            slot.ownedBySession();
            session.onEnd(slot::release);
        }
        return session;
    }
}
