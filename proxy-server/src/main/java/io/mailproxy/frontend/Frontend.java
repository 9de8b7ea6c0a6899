package io.mailproxy.frontend;

import io.mailproxy.backend.Backend;
import io.mailproxy.backend.BackendConnector;
import io.mailproxy.config.FrontendSettings;
import io.mailproxy.relay.Session;
import io.mailproxy.tls.ServerTls;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.handler.timeout.IdleStateHandler;
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

    public Frontend(FrontendSettings settings, Backend backend, ServerTls tls, BackendConnector connector,
                    ChannelGroup clients, AtomicInteger processActive) {
        this.settings = settings;
        this.backend = backend;
        this.tls = tls;
        this.connector = connector;
        this.clients = clients;
        this.processActive = processActive;
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
        if (tls != null) {
            p.addLast(PipelineNames.TLS, tls.newHandler());
        }
        p.addLast(PipelineNames.IDLE, new IdleStateHandler(0, 0, settings.idleTimeout().toMillis(), TimeUnit.MILLISECONDS));
        p.addLast(PipelineNames.START, new StartHandler(this, connector));
    }

    Session newSession(Channel client) {
        return new Session(client, settings.name(), tls != null, backend, processActive, active);
    }
}
