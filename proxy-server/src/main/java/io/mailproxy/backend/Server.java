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
 * A backend server at run time: its settings, its UP/DOWN state, its connection slots and the
 * sessions connected to it.
 *
 * <p>Threading: the state is written by the server's health check (on its event loop) and read by
 * balancers on every event loop, hence volatile. The slot count and the queue of sessions waiting
 * for this server belong to the backend's {@link BackendQueue} and change only under its lock; the
 * counts are atomics so that balancers and statistics may read them without it.
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

    Server(String backendName, ServerSettings settings, boolean initiallyUp) {
        this.backendName = backendName;
        this.settings = settings;
        this.address = settings.address().resolve();
        this.up = initiallyUp;
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

    @Override
    public int weight() {
        return settings.weight();
    }

    @Override
    public boolean backup() {
        return settings.backup();
    }

    /** UP as its health check last decided; always true without checks. */
    public boolean isUp() {
        return up;
    }

    @Override
    public boolean usable() {
        return up && settings.weight() > 0;
    }

    void up(boolean nowUp) {
        // a removed server's check is stopped, but a verdict in flight must not bring it back
        up = nowUp && !retired;
    }

    /** The most sessions placed here at once; 0 = no limit. */
    public int maxConnections() {
        return settings.maxConnections();
    }

    /** The most sessions waiting for this server in particular; 0 = no limit. */
    public int maxQueue() {
        return settings.maxQueue();
    }

    @Override
    public boolean hasFreeSlot() {
        int max = settings.maxConnections();
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
    int shutdownSessions(Termination reason, String why) {
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
