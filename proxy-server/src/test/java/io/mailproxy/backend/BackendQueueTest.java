package io.mailproxy.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.balance.Balancer;
import io.mailproxy.config.Balance;
import io.mailproxy.config.HostPort;
import io.mailproxy.config.ServerSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The backend queue on its own: order, bounds, removal, redispatch; grants are recorded, not run. */
class BackendQueueTest {

    private final List<String> grants = new ArrayList<>();

    private static Server server(String name, int maxConnections, int maxQueue) {
        return new Server("b", new ServerSettings(name, HostPort.parse("127.0.0.1:1"), 1, false, maxConnections, maxQueue), true);
    }

    private static BackendQueue queue(boolean redispatch, Server... servers) {
        List<Server> list = List.of(servers);
        BackendQueue q = new BackendQueue(list, Balancer.of(Balance.LEASTCONN, list), redispatch);
        for (Server s : servers) {
            s.onSlotFreed(q::dispatch);
        }
        return q;
    }

    private BackendQueue.Waiter waiter(String name, Server target) {
        return new BackendQueue.Waiter(target, null, Set.of(), (w, s) -> grants.add(name + "->" + s.name()));
    }

    @Test
    void waitersAreServedInArrivalOrderAsSlotsFree() {
        Server s1 = server("s1", 1, 0);
        BackendQueue q = queue(true, s1);
        assertTrue(s1.tryAcquire());
        assertFalse(s1.tryAcquire(), "full");
        for (String n : List.of("a", "b", "c")) {
            assertEquals(BackendQueue.Admission.QUEUED, q.offer(waiter(n, null)));
        }
        assertEquals(List.of(), grants, "no slot yet");
        s1.release();
        assertEquals(List.of("a->s1"), grants);
        s1.release();
        s1.release();
        assertEquals(List.of("a->s1", "b->s1", "c->s1"), grants);
        assertEquals(0, q.size());
        assertEquals(1, s1.activeSessions(), "each grant took the slot that freed");
    }

    @Test
    void aWaiterForAnyServerTakesTheFirstSlotThatFrees() {
        Server s1 = server("s1", 1, 0);
        Server s2 = server("s2", 1, 0);
        BackendQueue q = queue(true, s1, s2);
        s1.tryAcquire();
        s2.tryAcquire();
        q.offer(waiter("a", null));
        s2.release();
        assertEquals(List.of("a->s2"), grants);
    }

    @Test
    void aStuckWaiterWaitsForItsServer() {
        Server s1 = server("s1", 1, 0);
        Server s2 = server("s2", 1, 0);
        BackendQueue q = queue(true, s1, s2);
        s1.tryAcquire();
        s2.tryAcquire();
        q.offer(waiter("sticky", s1));
        q.offer(waiter("any", null));
        s2.release();
        assertEquals(List.of("any->s2"), grants, "s2's slot goes to the first waiter that may use it");
        assertEquals(1, s1.queued());
        assertEquals(2, s1.load(), "leastconn counts the session waiting for s1");
        s1.release();
        assertEquals(List.of("any->s2", "sticky->s1"), grants);
        assertEquals(0, s1.queued());
    }

    @Test
    void maxQueueBoundsAServersQueue() {
        Server s1 = server("s1", 1, 2);
        BackendQueue q = queue(true, s1);
        s1.tryAcquire();
        assertEquals(BackendQueue.Admission.QUEUED, q.offer(waiter("a", s1)));
        assertEquals(BackendQueue.Admission.QUEUED, q.offer(waiter("b", s1)));
        assertEquals(BackendQueue.Admission.FULL, q.offer(waiter("c", s1)));
        assertEquals(2, q.size());
    }

    @Test
    void waitersForAnyServerAreBoundedByTheSumOfMaxQueue() {
        Server s1 = server("s1", 1, 2);
        Server s2 = server("s2", 1, 3);
        BackendQueue q = queue(true, s1, s2);
        s1.tryAcquire();
        s2.tryAcquire();
        for (int i = 0; i < 5; i++) {
            assertEquals(BackendQueue.Admission.QUEUED, q.offer(waiter("w" + i, null)), "waiter " + i);
        }
        assertEquals(BackendQueue.Admission.FULL, q.offer(waiter("w5", null)));
    }

    /** Negative control: max-queue 0 is no limit. */
    @Test
    void maxQueueZeroIsUnlimited() {
        Server s1 = server("s1", 1, 0);
        BackendQueue q = queue(true, s1);
        s1.tryAcquire();
        for (int i = 0; i < 1000; i++) {
            assertEquals(BackendQueue.Admission.QUEUED, q.offer(waiter("w" + i, i % 2 == 0 ? null : s1)));
        }
    }

    @Test
    void aRemovedWaiterIsNotServedAndARemovalAfterTheGrantFails() {
        Server s1 = server("s1", 1, 0);
        BackendQueue q = queue(true, s1);
        s1.tryAcquire();
        BackendQueue.Waiter a = waiter("a", null);
        BackendQueue.Waiter b = waiter("b", s1);
        q.offer(a);
        q.offer(b);
        assertTrue(q.remove(a), "its timeout expired");
        assertFalse(q.remove(a));
        s1.release();
        assertEquals(List.of("b->s1"), grants);
        assertFalse(q.remove(b), "already granted: the timeout lost the race");
        assertEquals(0, s1.queued());
    }

    @Test
    void aWaiterReportsTheSessionsAheadOfIt() {
        Server s1 = server("s1", 1, 0);
        BackendQueue q = queue(true, s1);
        s1.tryAcquire();
        q.offer(waiter("a", s1));
        q.offer(waiter("b", null));
        BackendQueue.Waiter c = waiter("c", s1);
        q.offer(c);
        assertEquals(1, c.serverAhead());
        assertEquals(2, c.backendAhead());
    }

    @Test
    void withRedispatchAWaiterWhoseServerGoesDownTakesAnother() {
        Server s1 = server("s1", 1, 0);
        Server s2 = server("s2", 1, 0);
        BackendQueue q = queue(true, s1, s2);
        s1.tryAcquire();
        s2.tryAcquire();
        q.offer(waiter("sticky", s1));
        s1.up(false);
        s2.release();
        assertEquals(List.of("sticky->s2"), grants);
    }

    /** Negative control: without redispatch it keeps waiting for its server. */
    @Test
    void withoutRedispatchAWaiterKeepsWaitingForItsDownServer() {
        Server s1 = server("s1", 1, 0);
        Server s2 = server("s2", 1, 0);
        BackendQueue q = queue(false, s1, s2);
        s1.tryAcquire();
        s2.tryAcquire();
        q.offer(waiter("sticky", s1));
        s1.up(false);
        s2.release();
        assertEquals(List.of(), grants);
        assertEquals(1, q.size());
    }

    @Test
    void aFreeSlotIsGrantedAtOnceOnOffer() {
        Server s1 = server("s1", 1, 0);
        BackendQueue q = queue(true, s1);
        // the caller found no slot, then the slot freed before it enqueued: no lost wake-up
        assertEquals(BackendQueue.Admission.QUEUED, q.offer(waiter("late", null)));
        assertEquals(List.of("late->s1"), grants);
    }

    @Test
    void tryAcquireStopsAtMaxConnections() {
        Server s1 = server("s1", 3, 0);
        assertTrue(s1.tryAcquire());
        assertTrue(s1.tryAcquire());
        assertTrue(s1.tryAcquire());
        assertFalse(s1.tryAcquire());
        assertFalse(s1.hasFreeSlot());
        Server unlimited = server("u", 0, 0);
        for (int i = 0; i < 100; i++) {
            assertTrue(unlimited.tryAcquire());
        }
        assertTrue(unlimited.hasFreeSlot());
    }
}
