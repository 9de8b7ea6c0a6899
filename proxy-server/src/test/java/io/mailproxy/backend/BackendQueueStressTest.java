package io.mailproxy.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.balance.Balancer;
import io.mailproxy.config.Balance;
import io.mailproxy.config.HostPort;
import io.mailproxy.config.ServerSettings;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The backend queue under contention: many threads (as many event loops) take and give back slots
 * of several limited servers, thousands of sessions in all, most of them waiting. Shown: no server
 * ever holds more sessions than its {@code max-connections}; slots go to waiters in arrival order,
 * never to a newcomer while an older session waits; and what a release costs with few and with
 * thousands of waiters (printed, not asserted). A deliberately unfair queue (take-then-queue, as
 * this project's queue was) run through the same checks shows that they catch a violation.
 */
class BackendQueueStressTest {

    /** Threads (event loops) that each run one session at a time: twice the servers' slots, so most wait. */
    private static final int THREADS = 16;
    private static final int SESSIONS_PER_THREAD = 1250;
    private static final int[] MAX_CONNECTIONS = {1, 1, 2, 4};

    /** What one session saw: its order of arrival, the order of its grant, whether it waited. */
    private record Outcome(long arrival, long grant, boolean waited) {
    }

    /** A queue under test, as the stress drives it. */
    private interface Gate {
        /** Takes a slot (waiting for one if need be); returns the outcome and releases via {@code held}. */
        Outcome pass(Runnable held) throws Exception;
    }

    @Test
    void slotsGoToWaitersInArrivalOrderAndNoServerIsOverItsLimit() throws Exception {
        List<Server> servers = servers();
        BackendQueue queue = new BackendQueue("stress", servers, Balancer.of(Balance.LEASTCONN, servers), false, true);
        int[] maxSeen = new int[servers.size()];
        AtomicInteger[] holding = new AtomicInteger[servers.size()];
        for (int i = 0; i < holding.length; i++) {
            holding[i] = new AtomicInteger();
        }
        AtomicLong releaseNanos = new AtomicLong();
        AtomicLong releases = new AtomicLong();
        Gate gate = held -> {
            BackendQueue.Admission a = queue.admit(null, null, Set.of(), GlobalEventExecutor.INSTANCE);
            BackendQueue.Slot slot;
            boolean waited;
            if (a instanceof BackendQueue.Granted g) {
                slot = g.slot();
                waited = false;
            } else {
                BackendQueue.Waiter w = ((BackendQueue.Queued) a).waiter();
                assertTrue(w.grant().await(60, TimeUnit.SECONDS), "a waiter was never served");
                slot = w.grant().getNow();
                waited = true;
            }
            int i = servers.indexOf(slot.server());
            int now = holding[i].incrementAndGet();
            synchronized (maxSeen) {
                maxSeen[i] = Math.max(maxSeen[i], now);
            }
            held.run();
            holding[i].decrementAndGet();
            long t0 = System.nanoTime();
            slot.release();
            releaseNanos.addAndGet(System.nanoTime() - t0);
            releases.incrementAndGet();
            return new Outcome(slot.arrival(), slot.grantSerial(), waited);
        };
        List<Outcome> outcomes = run(gate);

        assertEquals(THREADS * SESSIONS_PER_THREAD, outcomes.size());
        for (int i = 0; i < servers.size(); i++) {
            assertTrue(maxSeen[i] <= MAX_CONNECTIONS[i], servers.get(i) + " held " + maxSeen[i]);
            assertEquals(0, servers.get(i).activeSessions(), "every slot is back");
        }
        assertEquals(0, queue.size());
        long handOffs = outcomes.stream().filter(Outcome::waited).count();
        assertEquals(0, fifoViolations(outcomes), "a slot went to a newcomer or a younger waiter");
        System.out.printf("fair queue: %d sessions on %d threads, %d servers (max-connections %s): %d hand-offs to"
                        + " waiters, most held at once per server %s, %.0f ns per release on average%n",
                outcomes.size(), THREADS, servers.size(), Arrays.toString(MAX_CONNECTIONS), handOffs,
                Arrays.toString(maxSeen), (double) releaseNanos.get() / releases.get());
        assertTrue(handOffs > outcomes.size() / 2, "most sessions waited: the queue was exercised (" + handOffs + ")");
    }

    /** Negative control: the same checks catch a queue that lets a newcomer take a freed slot. */
    @Test
    void theChecksCatchAnUnfairQueue() throws Exception {
        UnfairQueue unfair = new UnfairQueue(MAX_CONNECTIONS.length);
        List<Outcome> outcomes = run(held -> unfair.pass(held));
        assertTrue(fifoViolations(outcomes) > 0, "take-then-queue lets newcomers jump waiters");
    }

    /** What a release costs with a few waiters and with thousands of them (printed; O(1) in waiters). */
    @Test
    void aReleaseCostsTheSameWithThousandsOfWaiters() {
        boolean warm = false;
        // the first round warms the code up and is not printed
        for (int waiters : new int[] {10_000, 10, 10_000}) {
            List<Server> servers = servers();
            BackendQueue queue = new BackendQueue("cost", servers, Balancer.of(Balance.LEASTCONN, servers), false, true);
            ArrayDeque<BackendQueue.Slot> held = new ArrayDeque<>();
            for (int i = 0; i < Arrays.stream(MAX_CONNECTIONS).sum(); i++) {
                held.add(((BackendQueue.Granted) queue.admit(null, null, Set.of(), GlobalEventExecutor.INSTANCE)).slot());
            }
            List<BackendQueue.Waiter> waiting = new ArrayList<>();
            for (int i = 0; i < waiters; i++) {
                waiting.add(((BackendQueue.Queued) queue.admit(null, null, Set.of(), GlobalEventExecutor.INSTANCE)).waiter());
            }
            int rounds = Math.min(waiters, 5_000);
            long t0 = System.nanoTime();
            for (int i = 0; i < rounds; i++) {
                held.poll().release();
                held.add(waiting.get(i).grant().getNow());
            }
            long perRelease = (System.nanoTime() - t0) / rounds;
            if (warm) {
                System.out.printf("fair queue: %d waiters: %d ns per release and hand-off%n", waiters, perRelease);
            }
            warm = true;
            assertEquals(waiters - rounds, queue.size());
        }
    }

    /**
     * Sessions that got their slot after a younger one: for each session, in arrival order, every
     * older session that waited must have been granted before it.
     */
    private static long fifoViolations(List<Outcome> outcomes) {
        List<Outcome> byArrival = new ArrayList<>(outcomes);
        byArrival.sort(Comparator.comparingLong(Outcome::arrival));
        long violations = 0;
        long oldestWaitersLastGrant = -1;
        for (Outcome o : byArrival) {
            if (o.grant() < oldestWaitersLastGrant) {
                violations++;
            }
            if (o.waited()) {
                oldestWaitersLastGrant = Math.max(oldestWaitersLastGrant, o.grant());
            }
        }
        return violations;
    }

    private static List<Outcome> run(Gate gate) throws Exception {
        ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            SplittableRandom random = new SplittableRandom(t);
            Thread thread = new Thread(() -> {
                try {
                    start.await();
                    for (int i = 0; i < SESSIONS_PER_THREAD; i++) {
                        int hold = random.nextInt(20);
                        outcomes.add(gate.pass(() -> spin(hold)));
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "loop-" + t);
            threads.add(thread);
            thread.start();
        }
        start.countDown();
        for (Thread t : threads) {
            t.join(TimeUnit.MINUTES.toMillis(2));
        }
        assertTrue(failures.isEmpty(), failures.toString());
        return new ArrayList<>(outcomes);
    }

    private static void spin(int micros) {
        long until = System.nanoTime() + micros * 1000L;
        while (System.nanoTime() < until) {
            Thread.onSpinWait();
        }
    }

    private static List<Server> servers() {
        List<Server> servers = new ArrayList<>();
        for (int i = 0; i < MAX_CONNECTIONS.length; i++) {
            servers.add(new Server("stress", new ServerSettings("s" + i, HostPort.parse("127.0.0.1:" + (20000 + i)), 1,
                    false, MAX_CONNECTIONS[i], 0), true));
        }
        return servers;
    }

    /**
     * Take-then-queue: a free slot is taken with a compare-and-set outside any lock, the queue is
     * served after a slot was counted free. A newcomer on another thread can take a slot freed for
     * the head of the queue.
     */
    private static final class UnfairQueue {
        private final AtomicInteger[] active;
        private final ArrayDeque<Object[]> waiters = new ArrayDeque<>();
        private final AtomicLong arrivals = new AtomicLong();
        private final AtomicLong grants = new AtomicLong();

        UnfairQueue(int servers) {
            active = new AtomicInteger[servers];
            for (int i = 0; i < servers; i++) {
                active[i] = new AtomicInteger();
            }
        }

        private int tryAcquire() {
            for (int i = 0; i < active.length; i++) {
                int n = active[i].get();
                if (n < MAX_CONNECTIONS[i] && active[i].compareAndSet(n, n + 1)) {
                    return i;
                }
            }
            return -1;
        }

        Outcome pass(Runnable held) throws InterruptedException {
            long arrival = arrivals.incrementAndGet();
            int s = tryAcquire();
            boolean waited = false;
            long grant;
            if (s >= 0) {
                grant = grants.incrementAndGet();
            } else {
                Object[] w = {null};
                synchronized (this) {
                    waiters.add(w);
                }
                dispatch();
                synchronized (w) {
                    while (w[0] == null) {
                        w.wait();
                    }
                }
                long[] got = (long[]) w[0];
                s = (int) got[0];
                grant = got[1];
                waited = true;
            }
            held.run();
            active[s].decrementAndGet();
            dispatch();
            return new Outcome(arrival, grant, waited);
        }

        private void dispatch() {
            synchronized (this) {
                while (!waiters.isEmpty()) {
                    int s = tryAcquire();
                    if (s < 0) {
                        return;
                    }
                    Object[] w = waiters.poll();
                    synchronized (w) {
                        w[0] = new long[] {s, grants.incrementAndGet()};
                        w.notifyAll();
                    }
                }
            }
        }
    }
}
