package io.mailproxy.backend;

import io.mailproxy.config.ServerSettings;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** A backend server at run time: its settings and its live counters. */
public final class Server {

    private final String backendName;
    private final ServerSettings settings;
    private final InetSocketAddress address;
    private final AtomicInteger active = new AtomicInteger();
    private final AtomicLong total = new AtomicLong();
    private final AtomicLong connectFailures = new AtomicLong();

    Server(String backendName, ServerSettings settings) {
        this.backendName = backendName;
        this.settings = settings;
        this.address = settings.address().resolve();
    }

    public String name() {
        return settings.name();
    }

    /** {@code backend/server}, as logs name it. */
    public String qualifiedName() {
        return backendName + "/" + settings.name();
    }

    public InetSocketAddress address() {
        return address;
    }

    public int weight() {
        return settings.weight();
    }

    /** Sessions placed on this server that have not ended, counted from their connection attempt. */
    public int activeSessions() {
        return active.get();
    }

    public long totalSessions() {
        return total.get();
    }

    public long connectFailures() {
        return connectFailures.get();
    }

    /** A session starts connecting here; returns the active count including it. */
    public int acquire() {
        total.incrementAndGet();
        return active.incrementAndGet();
    }

    /** A session placed here ended or failed to connect. */
    public void release() {
        active.decrementAndGet();
    }

    void connectFailed() {
        connectFailures.incrementAndGet();
    }

    @Override
    public String toString() {
        return qualifiedName();
    }
}
