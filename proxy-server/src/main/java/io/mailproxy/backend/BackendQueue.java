package io.mailproxy.backend;

import io.mailproxy.balance.Balancer;
import io.mailproxy.balance.Tier;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Admission to one backend's servers: the one place where connection slots are taken and given
 * back, and where sessions wait when every server they may use is at its {@code max-connections}.
 *
 * <p>As HAProxy's {@code src/queue.c}: each server has a queue of the sessions that must go to it
 * (a stick table sent them there), the backend has one queue of sessions that may go to any server,
 * and a slot that frees on a server is handed straight to the oldest waiter that may use it, the
 * head of the server's queue or the first of the backend's queue that has not already tried that
 * server, whichever came first. A freed slot is never left for a newcomer to grab: a newcomer gets
 * a slot only when no waiter could have taken it. Handing off costs O(1) in the number of waiters
 * (waiters that already tried the freed server are skipped, and only retries carry such
 * exclusions).
 *
 * <p>Locking: this object's monitor guards every server's slot count, every wait list and every
 * waiter's state. Under it nothing blocks: O(1) work per release, one balancer pick per admission,
 * and on a server's state change (rare) one pass over the waiters. Grants are delivered after the
 * lock is released, through each waiter's promise, whose listeners run on the waiter's own event
 * loop.
 *
 * <p>A waiter is in one of three states, as HAProxy's {@code pendconn}: {@link Waiter.State#WAITING}
 * (in a wait list), {@link Waiter.State#GRANTED} (a slot was taken for it and is on its way) or
 * {@link Waiter.State#CANCELLED} (it left: its timeout expired or its client went away). It leaves
 * WAITING once, under the lock; {@link #cancel} tells the caller which way it went, so that a slot
 * granted at the same moment as a cancellation is given back by the receiver, never lost.
 */
public final class BackendQueue {

    /** Why {@link #admit} could not place or queue a session. */
    public enum Refusal {
        /** The queue the session would join holds {@code max-queue} sessions. */
        QUEUE_FULL,
        /** No server it may use is usable (DOWN, weight 0, or every one already tried). */
        NO_SERVER
    }

    /** What {@link #admit} decided. */
    public sealed interface Admission permits Granted, Queued, Refused {
    }

    /** A slot was free: the session goes on at once. */
    public record Granted(Slot slot) implements Admission {
    }

    /** The session waits; {@link Waiter#grant()} completes when a slot is handed to it. */
    public record Queued(Waiter waiter) implements Admission {
    }

    /** The session cannot be placed. */
    public record Refused(Refusal refusal, String detail) implements Admission {
    }

    /** Refuses a waiter whose every usable server disappeared while it waited. */
    public static final class NoServerLeft extends Exception {
        private static final long serialVersionUID = 1L;

        NoServerLeft(String message) {
            super(message, null, false, false);
        }
    }

    /** A connection slot on one server, held by one session; given back once. */
    public static final class Slot {
        private final BackendQueue queue;
        private final Server server;
        private final long arrival;
        private final long grant;
        private final AtomicBoolean released = new AtomicBoolean();

        private Slot(BackendQueue queue, Server server, long arrival, long grant) {
            this.queue = queue;
            this.server = server;
            this.arrival = arrival;
            this.grant = grant;
        }

        public Server server() {
            return server;
        }

        /** Gives the slot back: to the next waiter that may use it, or free. Only the first call counts. */
        public void release() {
            if (released.compareAndSet(false, true)) {
                queue.release(server);
            }
        }

        public boolean released() {
            return released.get();
        }

        /** The admission's serial number: the order sessions asked for a slot. */
        long arrival() {
            return arrival;
        }

        /** The grant's serial number: the order slots were given. */
        long grantSerial() {
            return grant;
        }
    }

    /** A session waiting for a slot. Its state and links are guarded by the queue's lock. */
    public static final class Waiter {
        /** See the class comment of {@link BackendQueue}. */
        public enum State { WAITING, GRANTED, CANCELLED }

        private final long arrival;
        private Server target;
        private final InetSocketAddress client;
        private final Set<Server> exclude;
        private final Promise<Slot> grant;
        private int serverAhead;
        private int backendAhead;
        private State state = State.WAITING;
        private Waiter prev;
        private Waiter next;
        private WaitList list;

        private Waiter(long arrival, Server target, InetSocketAddress client, Set<Server> exclude, Promise<Slot> grant) {
            this.arrival = arrival;
            this.target = target;
            this.client = client;
            this.exclude = exclude;
            this.grant = grant;
        }

        /** Completes on the waiter's event loop with its slot, or fails with {@link NoServerLeft}. */
        public Future<Slot> grant() {
            return grant;
        }

        /** Sessions that waited for the same server when it came in (HAProxy's %sq); 0 waiting for any. */
        public int serverAhead() {
            return serverAhead;
        }

        /** Sessions waiting in the whole backend when it came in (HAProxy's %bq). */
        public int backendAhead() {
            return backendAhead;
        }

        private boolean mayUse(Server s) {
            return target == null ? !exclude.contains(s) : target == s;
        }
    }

    /** An intrusive doubly linked FIFO of waiters: O(1) append, removal and head. */
    static final class WaitList {
        private Waiter head;
        private Waiter tail;
        private int size;

        void add(Waiter w) {
            w.list = this;
            w.prev = tail;
            w.next = null;
            if (tail == null) {
                head = w;
            } else {
                tail.next = w;
            }
            tail = w;
            size++;
        }

        void remove(Waiter w) {
            if (w.list != this) {
                return;
            }
            if (w.prev == null) {
                head = w.next;
            } else {
                w.prev.next = w.next;
            }
            if (w.next == null) {
                tail = w.prev;
            } else {
                w.next.prev = w.prev;
            }
            w.prev = null;
            w.next = null;
            w.list = null;
            size--;
        }

        Waiter head() {
            return head;
        }

        int size() {
            return size;
        }

        boolean isEmpty() {
            return size == 0;
        }
    }

    private final String backend;
    // The layout: replaced together, under the lock, when a reload changes the backend (reconfigure).
    private List<Server> servers;
    private Balancer<Server> balancer;
    private boolean allBackups;
    private boolean redispatch;
    /** Servers a reload removed while sessions waited for them in particular. */
    private List<Server> retired = List.of();
    /** Waiters that may go to any server. */
    private final WaitList any = new WaitList();
    /**
     * Whether some server has a connection limit; without one no session ever waits. Follows the
     * runtime limits: recomputed under the lock by {@link #maxConnectionsChanged}.
     */
    private boolean limited;
    private long arrivals;
    private long grants;
    /** Waiters in every list, readable without the lock (statistics, the soak's checks). */
    private final AtomicInteger size = new AtomicInteger();

    /**
     * @param redispatch a waiter for one server that goes DOWN waits for any server instead (the
     *                   backend's {@code redispatch}); else it waits on until its timeout
     */
    BackendQueue(String backend, List<Server> servers, Balancer<Server> balancer, boolean allBackups, boolean redispatch) {
        this.backend = backend;
        this.servers = List.copyOf(servers);
        this.balancer = balancer;
        this.allBackups = allBackups;
        this.redispatch = redispatch;
        this.limited = servers.stream().anyMatch(s -> s.maxConnections() > 0);
    }

    /**
     * A reload changed the backend: from now on slots are taken on {@code servers} as
     * {@code balancer} picks. Servers left out were retired by the caller: sessions waiting for one
     * of them in particular wait for any server with {@code redispatch}, else until their timeout;
     * slots held on them are given back as usual. Waiters are then served as on any state change.
     */
    void reconfigure(List<Server> servers, Balancer<Server> balancer, boolean allBackups, boolean redispatch) {
        synchronized (this) {
            List<Server> left = new ArrayList<>();
            for (Server s : this.servers) {
                if (!servers.contains(s) && !s.waiting.isEmpty()) {
                    left.add(s);
                }
            }
            for (Server s : retired) {
                if (!servers.contains(s) && !left.contains(s) && !s.waiting.isEmpty()) {
                    left.add(s);
                }
            }
            this.retired = List.copyOf(left);
            this.servers = List.copyOf(servers);
            this.balancer = balancer;
            this.allBackups = allBackups;
            this.redispatch = redispatch;
            this.limited = servers.stream().anyMatch(s -> s.maxConnections() > 0);
        }
        stateChanged();
    }

    /** Sessions waiting now. */
    public int size() {
        return size.get();
    }

    /**
     * Places a new session: a slot on {@code target} (its stick-table server, null when the balancer
     * chooses), else on the balancer's pick among the servers with a free slot that are not in
     * {@code exclude}; when every server it may use is full, it waits.
     *
     * @param loop the session's event loop, where its grant is delivered
     */
    public Admission admit(Server target, InetSocketAddress client, Set<Server> exclude, EventExecutor loop) {
        synchronized (this) {
            long arrival = ++arrivals;
            if (target != null) {
                if (target.waiting.isEmpty() && target.hasFreeSlot()) {
                    return new Granted(take(target, arrival));
                }
                if (target.maxQueue() > 0 && target.waiting.size() >= target.maxQueue()) {
                    return new Refused(Refusal.QUEUE_FULL, "every slot of " + target.qualifiedName()
                            + " is taken and its queue is full (max-queue " + target.maxQueue() + ")");
                }
                Waiter w = new Waiter(arrival, target, client, Set.of(), loop.newPromise());
                w.serverAhead = target.waiting.size();
                w.backendAhead = size.get();
                target.waiting.add(w);
                target.queuedChange(1);
                size.incrementAndGet();
                return new Queued(w);
            }
            Server s = pickFree(client, exclude);
            if (s != null) {
                return new Granted(take(s, arrival));
            }
            if (!anyUsable(exclude)) {
                return new Refused(Refusal.NO_SERVER, null);
            }
            int limit = anyLimit();
            if (limit > 0 && any.size() >= limit) {
                return new Refused(Refusal.QUEUE_FULL, "every slot is taken and the queue of " + backend + " is full ("
                        + limit + " waiting: the sum of the servers' max-queue)");
            }
            Waiter w = new Waiter(arrival, null, client, Set.copyOf(exclude), loop.newPromise());
            w.backendAhead = size.get();
            any.add(w);
            size.incrementAndGet();
            return new Queued(w);
        }
    }

    /**
     * Takes {@code w} out of its list (its timeout expired or its client left). True when it was
     * still waiting; false when a slot was granted to it meanwhile (the grant is on its way and its
     * receiver must give it back) or it was already out.
     */
    public boolean cancel(Waiter w) {
        synchronized (this) {
            if (w.state != Waiter.State.WAITING) {
                return false;
            }
            unlink(w);
            w.state = Waiter.State.CANCELLED;
            return true;
        }
    }

    private void release(Server s) {
        Waiter w;
        Slot slot = null;
        synchronized (this) {
            w = limited ? next(s) : null;
            if (w != null) {
                unlink(w);
                w.state = Waiter.State.GRANTED;
                // the slot changes hands: the server's count stays
                slot = new Slot(this, s, w.arrival, ++grants);
                s.counted();
            } else {
                s.active.decrementAndGet();
            }
        }
        if (w != null) {
            deliver(w, slot);
        }
    }

    /**
     * Sets {@code server}'s connection limit at run time ({@code set maxconn server}), 0 = none: the
     * limit and whether the backend has any change together under the lock, so no admission sees
     * one without the other; then waiters are served as after any state change.
     */
    void maxConnectionsChanged(Server server, int max) {
        synchronized (this) {
            server.maxConnections(max);
            limited = servers.stream().anyMatch(s -> s.maxConnections() > 0);
        }
        stateChanged();
    }

    /**
     * A server changed state (UP, DOWN, administrative state, weight, connection limit): waiters for
     * a server that went DOWN (or into MAINT) wait for any server instead (with {@code redispatch}),
     * free slots go to waiters in arrival order, and waiters that no usable server is left for are
     * refused.
     */
    public void stateChanged() {
        if (size.get() == 0) {
            return;
        }
        List<Waiter> granted = new ArrayList<>();
        List<Slot> slots = new ArrayList<>();
        List<Waiter> refused = new ArrayList<>();
        synchronized (this) {
            List<Waiter> all = new ArrayList<>(size.get());
            List<Server> waitedFor = new ArrayList<>(servers);
            waitedFor.addAll(retired);
            for (Server s : waitedFor) {
                for (Waiter w = s.waiting.head(); w != null; w = w.next) {
                    all.add(w);
                }
            }
            for (Waiter w = any.head(); w != null; w = w.next) {
                all.add(w);
            }
            all.sort(Comparator.comparingLong(w -> w.arrival));
            for (Waiter w : all) {
                Server target = w.target;
                if (target != null && redispatch && !target.isUp()) {
                    // its server went DOWN: it waits for any server now, in its old place
                    unlink(w);
                    w.target = null;
                    w.state = Waiter.State.WAITING;
                    insertByArrival(w);
                    target = null;
                }
                Server s = target != null
                        ? (target.isUp() && target.hasFreeSlot() ? target : null)
                        : pickFree(w.client, w.exclude);
                if (s != null) {
                    unlink(w);
                    w.state = Waiter.State.GRANTED;
                    s.active.incrementAndGet();
                    s.counted();
                    granted.add(w);
                    slots.add(new Slot(this, s, w.arrival, ++grants));
                } else if (target == null && !anyUsable(w.exclude)) {
                    unlink(w);
                    w.state = Waiter.State.CANCELLED;
                    refused.add(w);
                }
            }
        }
        for (int i = 0; i < granted.size(); i++) {
            deliver(granted.get(i), slots.get(i));
        }
        for (Waiter w : refused) {
            w.grant.tryFailure(new NoServerLeft("no usable server is left"));
        }
    }

    /** The oldest waiter that may use a slot freed on {@code s}, or null. Called under the lock. */
    private Waiter next(Server s) {
        int max = s.maxConnections();
        if (max > 0 && s.active.get() > max) {
            // its limit was lowered: this slot is not handed on
            return null;
        }
        Waiter stuck = s.isUp() ? s.waiting.head() : null;
        Waiter free = null;
        if (Tier.of(servers, allBackups).admits(s)) {
            for (Waiter w = any.head(); w != null; w = w.next) {
                if (w.mayUse(s)) {
                    free = w;
                    break;
                }
            }
        }
        if (stuck == null) {
            return free;
        }
        return free == null || stuck.arrival < free.arrival ? stuck : free;
    }

    private Slot take(Server s, long arrival) {
        s.active.incrementAndGet();
        s.counted();
        return new Slot(this, s, arrival, ++grants);
    }

    private void unlink(Waiter w) {
        WaitList list = w.list;
        if (list == null) {
            return;
        }
        list.remove(w);
        size.decrementAndGet();
        if (w.target != null && list == w.target.waiting) {
            w.target.queuedChange(-1);
        }
    }

    private void insertByArrival(Waiter w) {
        // the backend's list is in arrival order; a redispatched waiter takes its place in it
        Waiter after = any.tail;
        while (after != null && after.arrival > w.arrival) {
            after = after.prev;
        }
        w.list = any;
        w.prev = after;
        w.next = after == null ? any.head : after.next;
        if (w.prev == null) {
            any.head = w;
        } else {
            w.prev.next = w;
        }
        if (w.next == null) {
            any.tail = w;
        } else {
            w.next.prev = w;
        }
        any.size++;
        size.incrementAndGet();
    }

    private void deliver(Waiter w, Slot slot) {
        if (!w.grant.trySuccess(slot)) {
            slot.release();
        }
    }

    /**
     * A server the balancer gives {@code client} among those with a free slot and not in
     * {@code exclude}; null when none has one. Called under the lock, so the pick and the slot are
     * one step.
     */
    private Server pickFree(InetSocketAddress client, Set<Server> exclude) {
        if (!limited) {
            return balancer.pick(client, exclude);
        }
        Set<Server> skip = null;
        for (Server s : servers) {
            if (!s.hasFreeSlot()) {
                if (skip == null) {
                    skip = new HashSet<>(exclude);
                }
                skip.add(s);
            }
        }
        return balancer.pick(client, skip == null ? exclude : skip);
    }

    /**
     * Whether some usable server of the tier in use is not in {@code exclude}, full or not: then
     * waiting for a slot makes sense.
     */
    synchronized boolean anyUsable(Set<Server> exclude) {
        Tier<Server> tier = Tier.of(servers, allBackups);
        for (Server s : servers) {
            if (tier.admits(s) && !exclude.contains(s)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The most waiters for any server: the sum of the usable servers' {@code max-queue} in the tier
     * in use; 0 (no limit) when one of them has none.
     */
    private int anyLimit() {
        Tier<Server> tier = Tier.of(servers, allBackups);
        long sum = 0;
        for (Server s : servers) {
            if (tier.admits(s)) {
                if (s.maxQueue() == 0) {
                    return 0;
                }
                sum += s.maxQueue();
            }
        }
        return (int) Math.min(Integer.MAX_VALUE, sum);
    }
}
