package io.mailproxy.backend;

import io.mailproxy.balance.Candidate;
import io.mailproxy.config.ServerSettings;
import io.mailproxy.log.Termination;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A backend server at run time: its settings, its UP/DOWN state, its administrative state, runtime
 * weight and connection limit (the runtime API's and the stats page's {@code set server}), its
 * connection slots and the sessions connected to it.
 *
 * <p>Threading: the health state is written by the server's health check (on its event loop), the
 * administrative state, weight and limit by the runtime API, all read by balancers on every event
 * loop, hence volatile; they change through {@link Backend}, which tells the queue. The slot count
 * and the queue of sessions waiting for this server belong to the backend's {@link BackendQueue}
 * and change only under its lock; the counts are atomics so that balancers and statistics may read
 * them without it.
 */
public final class Server implements Candidate {

    /**
     * A session connected to a server, as the server sees it: enough to end it from another thread
     * ({@code on-marked-down shutdown-sessions}).
     */
    public interface Attached {
        /** Ends the session on its own event loop, logged with {@code reason}. */
        void shutdown(Termination reason, String detail);
    }

    /** Told of what sessions see when they connect (HAProxy's {@code observe layer4}). */
    public interface TrafficObserver {
        TrafficObserver NONE = new TrafficObserver() {
            @Override
            public void failed(String detail, boolean timeout) {
            }

            @Override
            public void succeeded() {
            }
        };

        /** A session's connection attempt failed: refused, reset, timed out, or no greeting. */
        void failed(String detail, boolean timeout);

        /** A session's connection was established and the server greeted it. */
        void succeeded();
    }

    private final String backendName;
    /** Replaced by a reload that keeps the server ({@link #reconfigure}); read by every event loop. */
    private volatile ServerSettings settings;
    private volatile InetSocketAddress address;
    /** Removed from its backend by a reload: no new session; its sessions go on. */
    private volatile boolean retired;
    /** Slots taken: sessions placed here, from the connection attempt until the server channel closes. */
    final AtomicInteger active = new AtomicInteger();
    private final AtomicLong total = new AtomicLong();
    private final AtomicLong connectFailures = new AtomicLong();
    /** Sessions waiting for this server in particular (sent here by a stick table); the queue's lock guards it. */
    final BackendQueue.WaitList waiting = new BackendQueue.WaitList();
    private final AtomicInteger queued = new AtomicInteger();
    private final Set<Attached> sessions = ConcurrentHashMap.newKeySet();
    private volatile TrafficObserver observer = TrafficObserver.NONE;
    private volatile boolean up;
    private volatile AdminState adminState = AdminState.READY;
    private volatile int weight;
    private volatile int maxConnections;
    /** When the operational state (UP, DOWN, MAINT) last changed, in ms since the epoch. */
    private volatile long lastChangeMillis = System.currentTimeMillis();
    /** Times it went DOWN, and the ms it was DOWN before the current period (HAProxy's chkdown, downtime). */
    private volatile long downs;
    private volatile long downMillis;

    Server(String backendName, ServerSettings settings, boolean initiallyUp) {
        this.backendName = backendName;
        this.settings = settings;
        this.address = settings.address().resolve();
        this.up = initiallyUp;
        this.weight = settings.weight();
        this.maxConnections = settings.maxConnections();
    }

    /** HAProxy's administrative states, set at run time ({@code set server B/S state ...}). */
    public enum AdminState {
        /** Takes new sessions as its health and weight allow. */
        READY,
        /** No new sessions but those its stick table sends (HAProxy's DRAIN); existing ones stay. */
        DRAIN,
        /** No new sessions at all, sticky or not, whatever its checks say (HAProxy's MAINT). */
        MAINT
    }

    @Override
    public String name() {
        return settings.name();
    }

    public ServerSettings settings() {
        return settings;
    }

    /**
     * A reload kept this server (same backend, same name) with {@code next} settings: its counts, its
     * sessions, its queue and its health state stay; new connections go to {@code next}'s address.
     */
    void reconfigure(ServerSettings next) {
        if (!next.name().equals(settings.name())) {
            throw new IllegalArgumentException("server " + qualifiedName() + " cannot become " + next.name());
        }
        InetSocketAddress nextAddress = next.address().equals(settings.address()) ? address : next.address().resolve();
        // a weight or limit set at run time stays unless the file changes that very setting
        if (next.weight() != settings.weight()) {
            weight = next.weight();
        }
        if (next.maxConnections() != settings.maxConnections()) {
            maxConnections = next.maxConnections();
        }
        settings = next;
        address = nextAddress;
    }

    /** A reload removed this server: it takes no new session; sessions connected to it go on. */
    void retire() {
        retired = true;
        up = false;
    }

    /** Whether a reload removed this server from its backend. */
    public boolean retired() {
        return retired;
    }
    /** {@code backend/server}, as logs name it. */
    public String qualifiedName() {
        return backendName + "/" + settings.name();
    }

    public InetSocketAddress address() {
        return address;
    }

    /** The weight now: the configured one until the runtime API changes it. */
    @Override
    public int weight() {
        return weight;
    }

    void weight(int w) {
        weight = w;
    }

    /** The administrative state now. */
    public AdminState adminState() {
        return adminState;
    }

    synchronized void adminState(AdminState state) {
        boolean wasUp = isUp();
        adminState = state;
        changed(wasUp);
    }

    @Override
    public boolean backup() {
        return settings.backup();
    }

    /**
     * UP as its health check last decided (always true without checks) and not in maintenance: what
     * sticky sessions and those waiting for this server in particular need.
     */
    public boolean isUp() {
        return up && adminState != AdminState.MAINT;
    }

    /** UP as its health check last decided, whatever the administrative state. */
    public boolean healthUp() {
        return up;
    }

    @Override
    public boolean usable() {
        return up && adminState == AdminState.READY && weight > 0;
    }

    synchronized void up(boolean nowUp) {
        boolean wasUp = isUp();
        // a removed server's check is stopped, but a verdict in flight must not bring it back
        up = nowUp && !retired;
        changed(wasUp);
    }

    private void changed(boolean wasUp) {
        boolean nowUp = isUp();
        if (wasUp == nowUp) {
            return;
        }
        long now = System.currentTimeMillis();
        if (!nowUp) {
            downs++;
        } else {
            downMillis += now - lastChangeMillis;
        }
        lastChangeMillis = now;
    }

    /** When the state last changed between UP and DOWN (or MAINT), ms since the epoch. */
    public long lastChangeMillis() {
        return lastChangeMillis;
    }

    /** Times it went DOWN or into maintenance. */
    public long downs() {
        return downs;
    }

    /** The ms it has been DOWN (or in maintenance) in all, the current period included. */
    public long downtimeMillis() {
        return isUp() ? downMillis : downMillis + System.currentTimeMillis() - lastChangeMillis;
    }

    /** The most sessions placed here at once; 0 = no limit. The configured one until the runtime API changes it. */
    public int maxConnections() {
        return maxConnections;
    }

    void maxConnections(int max) {
        maxConnections = max;
    }

    /** The most sessions waiting for this server in particular; 0 = no limit. */
    public int maxQueue() {
        return settings.maxQueue();
    }

    @Override
    public boolean hasFreeSlot() {
        int max = maxConnections;
        return max == 0 || active.get() < max;
    }

    /** Sessions waiting in the queue for this server in particular. */
    public int queued() {
        return queued.get();
    }

    void queuedChange(int delta) {
        queued.addAndGet(delta);
    }

    /** Sessions placed here that have not given their slot back (connecting or connected). */
    public int activeSessions() {
        return active.get();
    }

    /**
     * What {@code leastconn} and {@code random} compare (relative to the weight): the sessions placed
     * here plus those waiting for this server in particular, as HAProxy counts a server's queue.
     */
    @Override
    public int load() {
        return active.get() + queued.get();
    }

    public long totalSessions() {
        return total.get();
    }

    void counted() {
        total.incrementAndGet();
    }

    public long connectFailures() {
        return connectFailures.get();
    }

    /** A connection attempt here failed; the observer (the health check) hears of it. */
    void connectFailed(String detail, boolean timeout) {
        connectFailures.incrementAndGet();
        observer.failed(detail, timeout);
    }

    void connectSucceeded() {
        observer.succeeded();
    }

    /** Who hears of the sessions' connection outcomes (the server's health check). */
    public void observeWith(TrafficObserver o) {
        observer = o;
    }

    /** A session's server channel is connected here. */
    public void attach(Attached session) {
        sessions.add(session);
    }

    /** That session's server channel closed. */
    public void detach(Attached session) {
        sessions.remove(session);
    }

    /** Sessions connected here now. */
    public int connectedSessions() {
        return sessions.size();
    }

    /** Asks every session connected here to end; returns how many were asked. */
    public int shutdownSessions(Termination reason, String why) {
        int n = 0;
        for (Attached session : sessions) {
            session.shutdown(reason, why);
            n++;
        }
        return n;
    }

    @Override
    public String toString() {
        return qualifiedName();
    }
}
