package io.mailproxy.backend;

import io.mailproxy.config.ServerSettings;
import io.mailproxy.log.Termination;
import io.mailproxy.relay.Session;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A backend server at run time: its settings, its live counters, its UP/DOWN state and its
 * connected sessions.
 *
 * <p>Threading: the state is written by the server's health check (on its event loop) and read by
 * balancers on every event loop, hence volatile; sessions register from their own event loops.
 */
public final class Server {

    private final String backendName;
    private final ServerSettings settings;
    private final InetSocketAddress address;
    private final AtomicInteger active = new AtomicInteger();
    private final AtomicLong total = new AtomicLong();
    private final AtomicLong connectFailures = new AtomicLong();
    /** Sessions waiting in the backend's queue for this server in particular (stuck to it). */
    private final AtomicInteger queued = new AtomicInteger();
    /** Called after a slot frees or the server comes UP: the backend's queue may move. */
    private volatile Runnable slotFreed = () -> { };
    /** Sessions whose server channel is connected here, for {@code on-marked-down shutdown-sessions}. */
    private final Set<Session> sessions = ConcurrentHashMap.newKeySet();
    private volatile boolean up;

    Server(String backendName, ServerSettings settings, boolean initiallyUp) {
        this.backendName = backendName;
        this.settings = settings;
        this.address = settings.address().resolve();
        this.up = initiallyUp;
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

    /** A backup server takes sessions only while no normal server of its backend is usable. */
    public boolean backup() {
        return settings.backup();
    }

    /** UP as its health check last decided; always true without checks. */
    public boolean isUp() {
        return up;
    }

    /** May take new sessions: UP and a weight above 0 (what HAProxy counts as usable). */
    public boolean usable() {
        return up && settings.weight() > 0;
    }

    void up(boolean nowUp) {
        up = nowUp;
    }

    void onSlotFreed(Runnable r) {
        slotFreed = r;
    }

    /** The most sessions placed here at once; 0 = no limit. */
    public int maxConnections() {
        return settings.maxConnections();
    }

    /** The most sessions waiting for this server in particular; 0 = no limit. */
    public int maxQueue() {
        return settings.maxQueue();
    }

    /** Whether a new session could be placed here now (below {@code max-connections}). */
    public boolean hasFreeSlot() {
        int max = settings.maxConnections();
        return max == 0 || active.get() < max;
    }

    /**
     * Takes a connection slot if one is free: the check and the count are one atomic step, since
     * sessions on every event loop compete for the last slot. Returns whether it was taken.
     */
    public boolean tryAcquire() {
        int max = settings.maxConnections();
        while (true) {
            int n = active.get();
            if (max > 0 && n >= max) {
                return false;
            }
            if (active.compareAndSet(n, n + 1)) {
                total.incrementAndGet();
                return true;
            }
        }
    }

    /** Sessions waiting in the queue for this server in particular. */
    public int queued() {
        return queued.get();
    }

    void queuedChange(int delta) {
        queued.addAndGet(delta);
    }

    /** A session's server channel is connected here. */
    public void attach(Session session) {
        sessions.add(session);
    }

    /** That session's server channel closed. */
    public void detach(Session session) {
        sessions.remove(session);
    }

    /** Sessions connected here now. */
    public int connectedSessions() {
        return sessions.size();
    }

    /**
     * Ends every session connected here, each on its own event loop (where a session's state lives),
     * logged as {@link Termination#SERVER_DOWN}. Returns how many were asked to end.
     */
    int shutdownSessions(String why) {
        int n = 0;
        for (Session session : sessions) {
            session.client().eventLoop().execute(() -> session.end(Termination.SERVER_DOWN, why));
            n++;
        }
        return n;
    }

    /** Sessions placed on this server that have not ended, counted from their connection attempt. */
    public int activeSessions() {
        return active.get();
    }

    /**
     * What {@code leastconn} and {@code random} compare (relative to the weight): the sessions placed
     * here plus those waiting in the queue for this server in particular, as HAProxy counts a
     * server's queue. Sessions waiting for any server belong to no server yet.
     */
    public int load() {
        return active.get() + queued.get();
    }

    public long totalSessions() {
        return total.get();
    }

    public long connectFailures() {
        return connectFailures.get();
    }

    /**
     * A session starts connecting here whatever the limit (tests and tools; sessions use
     * {@link #tryAcquire()}); returns the active count including it.
     */
    public int acquire() {
        total.incrementAndGet();
        return active.incrementAndGet();
    }

    /** A session placed here ended or failed to connect: its slot may go to a waiting session. */
    public void release() {
        active.decrementAndGet();
        slotFreed.run();
    }

    void connectFailed() {
        connectFailures.incrementAndGet();
    }

    @Override
    public String toString() {
        return qualifiedName();
    }
}
