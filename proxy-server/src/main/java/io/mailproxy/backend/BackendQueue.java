package io.mailproxy.backend;

import io.mailproxy.balance.Balancer;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/**
 * The sessions of one backend that wait for a connection slot because every server they may use
 * is at its {@code max-connections}: one FIFO, served in arrival order whenever a slot frees (a
 * session ends or fails to connect, or a server comes UP).
 *
 * <p>HAProxy keeps a queue per server plus one per backend; one list with a target per waiter gives
 * the same service order with less bookkeeping. A waiter either waits for one server (its stick
 * table entry named it: it is counted in that server's queue, bounded by its {@code max-queue}) or
 * for any server the balancer would give it (bounded by the sum of the usable servers'
 * {@code max-queue}). When a slot frees, the first waiter that can use it takes it; a waiter for
 * "any" server is placed by the balancer among the servers with a free slot.
 *
 * <p>Threading: sessions of every event loop enqueue and slots free on every event loop, so the
 * list is guarded by this object's lock. Under it nothing blocks: a scan of the waiters and, per
 * waiter for "any", one balancer pick. A grant is handed to the waiter outside the lock, and the
 * waiter moves it to its own event loop.
 */
public final class BackendQueue {

    /** One waiting session. Its target and counters are guarded by the queue's lock. */
    public static final class Waiter {
        private Server target;
        private final InetSocketAddress client;
        private final Set<Server> exclude;
        private final BiConsumer<Waiter, Server> onGrant;
        private int serverAhead;
        private int backendAhead;

        /**
         * @param target  the server it waits for, or null for any server the balancer gives it
         * @param client  the original client address, for the balancer
         * @param exclude servers it must not be given (those it already tried)
         * @param onGrant called, from any thread and without the queue's lock, once a slot of the
         *                given server was taken for it; it must release the slot if it cannot use it
         */
        public Waiter(Server target, InetSocketAddress client, Set<Server> exclude, BiConsumer<Waiter, Server> onGrant) {
            this.target = target;
            this.client = client;
            this.exclude = Set.copyOf(exclude);
            this.onGrant = onGrant;
        }

        /** Sessions ahead of it that waited for the same server when it came in (HAProxy's %sq). */
        public synchronized int serverAhead() {
            return serverAhead;
        }

        /** Sessions ahead of it in the backend's queue when it came in (HAProxy's %bq). */
        public synchronized int backendAhead() {
            return backendAhead;
        }
    }

    /** What {@link #offer} decided. */
    public enum Admission {
        /** The session waits. */
        QUEUED,
        /** The queue it would join holds {@code max-queue} sessions. */
        FULL
    }

    private final List<Server> servers;
    private final Balancer balancer;
    private final boolean redispatch;
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    /** The waiters' count, read without the lock so that releasing a slot costs nothing when none waits. */
    private final AtomicInteger size = new AtomicInteger();

    /**
     * @param redispatch a waiter for one server that goes DOWN waits for any server instead
     *                   (the backend's {@code redispatch}); else it waits on until its timeout
     */
    BackendQueue(List<Server> servers, Balancer balancer, boolean redispatch) {
        this.servers = List.copyOf(servers);
        this.balancer = balancer;
        this.redispatch = redispatch;
    }

    /** Sessions waiting now. */
    public int size() {
        return size.get();
    }

    /**
     * Adds {@code w} at the end, unless the queue it joins is full, then serves the queue at once:
     * a slot may have freed between the caller's failed attempt to take one and this call.
     */
    public Admission offer(Waiter w) {
        synchronized (this) {
            int limit = w.target != null ? w.target.maxQueue() : anyLimit();
            int waiting = w.target != null ? w.target.queued() : countAny();
            if (limit > 0 && waiting >= limit) {
                return Admission.FULL;
            }
            synchronized (w) {
                w.serverAhead = w.target != null ? w.target.queued() : 0;
                w.backendAhead = waiters.size();
            }
            waiters.addLast(w);
            size.incrementAndGet();
            if (w.target != null) {
                w.target.queuedChange(1);
            }
        }
        dispatch();
        return Admission.QUEUED;
    }

    /** Takes {@code w} out (its timeout expired or its client left); false when it was already granted. */
    public synchronized boolean remove(Waiter w) {
        if (!waiters.remove(w)) {
            return false;
        }
        size.decrementAndGet();
        if (w.target != null) {
            w.target.queuedChange(-1);
        }
        return true;
    }

    /** Gives every free slot to the first waiter that may use it. */
    public void dispatch() {
        if (size.get() == 0) {
            return;
        }
        List<Waiter> granted = new ArrayList<>();
        List<Server> to = new ArrayList<>();
        synchronized (this) {
            for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
                Waiter w = it.next();
                if (w.target != null && redispatch && !w.target.isUp()) {
                    // its server went DOWN: it waits for any server now, and its stick entry will follow
                    w.target.queuedChange(-1);
                    w.target = null;
                }
                Server s = w.target != null ? (w.target.tryAcquire() ? w.target : null) : pickFree(w.client, w.exclude);
                if (s != null) {
                    it.remove();
                    size.decrementAndGet();
                    if (w.target != null) {
                        w.target.queuedChange(-1);
                    }
                    granted.add(w);
                    to.add(s);
                }
            }
        }
        for (int i = 0; i < granted.size(); i++) {
            granted.get(i).onGrant.accept(granted.get(i), to.get(i));
        }
    }

    /**
     * A server the balancer gives {@code client} among those with a free slot and not in
     * {@code exclude}, with its slot taken; null when none has one.
     */
    Server pickFree(InetSocketAddress client, Set<Server> exclude) {
        Set<Server> skip = new HashSet<>(exclude);
        while (true) {
            for (Server s : servers) {
                if (!s.hasFreeSlot()) {
                    skip.add(s);
                }
            }
            Server s = balancer.pick(client, skip);
            if (s == null) {
                return null;
            }
            if (s.tryAcquire()) {
                return s;
            }
            // another event loop took its last slot since the scan
            skip.add(s);
        }
    }

    private int countAny() {
        int n = 0;
        for (Waiter w : waiters) {
            if (w.target == null) {
                n++;
            }
        }
        return n;
    }

    /**
     * The most waiters for any server: the sum of the usable servers' {@code max-queue} (those of
     * the tier in use: normal servers while one is usable, else backups); 0 (no limit) when one of
     * them has none.
     */
    private int anyLimit() {
        boolean normal = servers.stream().anyMatch(s -> s.usable() && !s.backup());
        long sum = 0;
        for (Server s : servers) {
            if (s.usable() && s.backup() != normal) {
                if (s.maxQueue() == 0) {
                    return 0;
                }
                sum += s.maxQueue();
            }
        }
        return (int) Math.min(Integer.MAX_VALUE, sum);
    }
}
