package io.mailproxy.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.balance.Balancer;
import io.mailproxy.config.Balance;
import io.mailproxy.config.HostPort;
import io.mailproxy.config.ServerSettings;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The backend queue on its own: admission, hand-off order, bounds, cancellation, redispatch. */
class BackendQueueTest {

    private static Server server(String name, int maxConnections, int maxQueue) {
        return new Server("b", new ServerSettings(name, HostPort.parse("127.0.0.1:1"), 1, false, maxConnections, maxQueue), true);
    }

    private static BackendQueue queue(boolean redispatch, Server... servers) {
        List<Server> list = List.of(servers);
        return new BackendQueue("b", list, Balancer.of(Balance.LEASTCONN, list), false, redispatch);
    }

    private static BackendQueue.Admission admit(BackendQueue q, Server target) {
        return admit(q, target, Set.of());
    }

    private static BackendQueue.Admission admit(BackendQueue q, Server target, Set<Server> exclude) {
        return q.admit(target, null, exclude, ImmediateEventExecutor.INSTANCE);
    }

    private static BackendQueue.Slot granted(BackendQueue.Admission a) {
        return assertInstanceOf(BackendQueue.Granted.class, a).slot();
    }

    private static BackendQueue.Waiter queued(BackendQueue.Admission a) {
        return assertInstanceOf(BackendQueue.Queued.class, a).waiter();
    }

    /** The slot a waiter was given, or null while it waits. */
    private static BackendQueue.Slot slotOf(BackendQueue.Waiter w) {
        return w.grant().isSuccess() ? w.grant().getNow() : null;
    }

    @Test
    void waitersAreServedInArrivalOrderAsSlotsFree() {
        Server s1 = server("s1", 1, 0);
        BackendQueue q = queue(true, s1);
        BackendQueue.Slot first = granted(admit(q, null));
        BackendQueue.Waiter a = queued(admit(q, null));
        BackendQueue.Waiter b = queued(admit(q, null));
        BackendQueue.Waiter c = queued(admit(q, null));
        assertNull(slotOf(a), "no slot yet");
        first.release();
        assertSame(s1, slotOf(a).server());
        assertNull(slotOf(b));
        slotOf(a).release();
        slotOf(b).release();
        assertSame(s1, slotOf(c).server());
        assertEquals(0, q.size());
        assertEquals(1, s1.activeSessions(), "each grant took the slot that freed");
        slotOf(c).release();
        assertEquals(0, s1.activeSessions());
    }

    @Test
    void aFreedSlotGoesToTheWaiterNeverToANewcomer() {
        Server s1 = server("s1", 1, 0);
        BackendQueue q = queue(true, s1);
        BackendQueue.Slot first = granted(admit(q, null));
        BackendQueue.Waiter waiting = queued(admit(q, null));
        first.release();
        assertSame(s1, slotOf(waiting).server());
        queued(admit(q, null));
        assertEquals(1, s1.activeSessions());
    }

    /** Negative control: with nobody waiting, a freed slot is free for the next newcomer. */
    @Test
    void withNobodyWaitingAFreedSlotIsFree() {
        Server s1 = server("s1", 1, 0);
        BackendQueue q = queue(true, s1);
        granted(admit(q, null)).release();
        assertEquals(0, s1.activeSessions());
        granted(admit(q, null));
    }

    @Test
    void aWaiterForAnyServerTakesTheFirstSlotThatFrees() {
        Server s1 = server("s1", 1, 0);
        Server s2 = server("s2", 1, 0);
        BackendQueue q = queue(true, s1, s2);
        granted(admit(q, s1));
        BackendQueue.Slot onS2 = granted(admit(q, s2));
        BackendQueue.Waiter a = queued(admit(q, null));
        onS2.release();
        assertSame(s2, slotOf(a).server());
    }

    @Test
    void aStuckWaiterWaitsForItsServer() {
        Server s1 = server("s1", 1, 0);
        Server s2 = server("s2", 1, 0);
        BackendQueue q = queue(true, s1, s2);
        BackendQueue.Slot onS1 = granted(admit(q, s1));
        BackendQueue.Slot onS2 = granted(admit(q, s2));
        BackendQueue.Waiter sticky = queued(admit(q, s1));
        BackendQueue.Waiter any = queued(admit(q, null));
        assertEquals(1, s1.queued());
        assertEquals(2, s1.load(), "leastconn counts the session waiting for s1");
        onS2.release();
        assertSame(s2, slotOf(any).server(), "s2's slot goes to the first waiter that may use it");
        assertNull(slotOf(sticky));
        onS1.release();
        assertSame(s1, slotOf(sticky).server());
        assertEquals(0, s1.queued());
    }

    @Test
    void theOlderOfTheServersAndTheBackendsHeadWaiterGoesFirst() {
        Server s1 = server("s1", 1, 0);
        BackendQueue q = queue(true, s1);
        BackendQueue.Slot onS1 = granted(admit(q, null));
        BackendQueue.Waiter any = queued(admit(q, null));
        BackendQueue.Waiter sticky = queued(admit(q, s1));
        onS1.release();
        assertSame(s1, slotOf(any).server(), "it came first");
        slotOf(any).release();
        assertSame(s1, slotOf(sticky).server());
    }

    @Test
    void aWaiterThatTriedAServerIsSkippedForThatServersSlot() {
        Server s1 = server("s1", 1, 0);
        Server s2 = server("s2", 1, 0);
        BackendQueue q = queue(true, s1, s2);
        BackendQueue.Slot onS1 = granted(admit(q, s1));
        granted(admit(q, s2));
        BackendQueue.Waiter retry = queued(admit(q, null, Set.of(s1)));
        BackendQueue.Waiter fresh = queued(admit(q, null));
        onS1.release();
        assertNull(slotOf(retry), "it already tried s1");
        assertSame(s1, slotOf(fresh).server());
    }

    @Test
    void maxQueueBoundsAServersQueue() {
        Server s1 = server("s1", 1, 2);
        BackendQueue q = queue(true, s1);
        granted(admit(q, s1));
        queued(admit(q, s1));
        queued(admit(q, s1));
        BackendQueue.Refused full = assertInstanceOf(BackendQueue.Refused.class, admit(q, s1));
        assertEquals(BackendQueue.Refusal.QUEUE_FULL, full.refusal());
        assertEquals(2, q.size());
    }

    @Test
    void waitersForAnyServerAreBoundedByTheSumOfMaxQueue() {
        Server s1 = server("s1", 1, 2);
        Server s2 = server("s2", 1, 3);
        BackendQueue q = queue(true, s1, s2);
        granted(admit(q, null));
        granted(admit(q, null));
        for (int i = 0; i < 5; i++) {
            queued(admit(q, null));
        }
        assertEquals(BackendQueue.Refusal.QUEUE_FULL,
                assertInstanceOf(BackendQueue.Refused.class, admit(q, null)).refusal());
    }

    /** Negative control: max-queue 0 is no limit. */
    @Test
    void maxQueueZeroIsUnlimited() {
        Server s1 = server("s1", 1, 0);
        BackendQueue q = queue(true, s1);
        granted(admit(q, s1));
        for (int i = 0; i < 1000; i++) {
            queued(admit(q, i % 2 == 0 ? null : s1));
        }
        assertEquals(1000, q.size());
    }

    @Test
    void aCancelledWaiterIsNotServedAndACancellationAfterTheGrantFails() {
        Server s1 = server("s1", 1, 0);
        BackendQueue q = queue(true, s1);
        BackendQueue.Slot onS1 = granted(admit(q, null));
        BackendQueue.Waiter a = queued(admit(q, null));
        BackendQueue.Waiter b = queued(admit(q, s1));
        assertTrue(q.cancel(a), "its timeout expired");
        assertFalse(q.cancel(a));
        onS1.release();
        assertNull(slotOf(a));
        assertSame(s1, slotOf(b).server());
        assertFalse(q.cancel(b), "already granted: the timeout lost the race");
        assertEquals(0, s1.queued());
        assertEquals(0, q.size());
    }

    @Test
    void aWaiterReportsTheSessionsAheadOfIt() {
        Server s1 = server("s1", 1, 0);
        BackendQueue q = queue(true, s1);
        granted(admit(q, s1));
        queued(admit(q, s1));
        queued(admit(q, null));
        BackendQueue.Waiter c = queued(admit(q, s1));
        assertEquals(1, c.serverAhead());
        assertEquals(2, c.backendAhead());
    }

    @Test
    void withRedispatchAWaiterWhoseServerGoesDownTakesAnother() {
        Server s1 = server("s1", 1, 0);
        Server s2 = server("s2", 1, 0);
        BackendQueue q = queue(true, s1, s2);
        granted(admit(q, s1));
        BackendQueue.Slot onS2 = granted(admit(q, s2));
        BackendQueue.Waiter sticky = queued(admit(q, s1));
        s1.up(false);
        q.stateChanged();
        assertEquals(0, s1.queued());
        onS2.release();
        assertSame(s2, slotOf(sticky).server());
    }

    /** Negative control: without redispatch it keeps waiting for its server. */
    @Test
    void withoutRedispatchAWaiterKeepsWaitingForItsDownServer() {
        Server s1 = server("s1", 1, 0);
        Server s2 = server("s2", 1, 0);
        BackendQueue q = queue(false, s1, s2);
        granted(admit(q, s1));
        BackendQueue.Slot onS2 = granted(admit(q, s2));
        BackendQueue.Waiter sticky = queued(admit(q, s1));
        s1.up(false);
        q.stateChanged();
        onS2.release();
        assertNull(slotOf(sticky));
        assertEquals(1, q.size());
    }

    @Test
    void aServerComingUpServesTheWaitersInOrder() {
        Server s1 = server("s1", 2, 0);
        Server s2 = server("s2", 1, 0);
        s1.up(false);
        BackendQueue q = queue(true, s1, s2);
        granted(admit(q, null));
        BackendQueue.Waiter a = queued(admit(q, null));
        BackendQueue.Waiter b = queued(admit(q, null));
        BackendQueue.Waiter c = queued(admit(q, null));
        s1.up(true);
        q.stateChanged();
        assertSame(s1, slotOf(a).server());
        assertSame(s1, slotOf(b).server());
        assertNull(slotOf(c), "s1 has two slots");
    }

    @Test
    void waitersNoServerIsLeftForAreRefused() {
        Server s1 = server("s1", 1, 0);
        BackendQueue q = queue(true, s1);
        granted(admit(q, null));
        BackendQueue.Waiter a = queued(admit(q, null));
        s1.up(false);
        q.stateChanged();
        assertInstanceOf(BackendQueue.NoServerLeft.class, a.grant().cause());
        assertEquals(0, q.size());
    }

    @Test
    void aSessionWithNoUsableServerIsRefusedAtOnce() {
        Server s1 = server("s1", 1, 0);
        s1.up(false);
        BackendQueue q = queue(true, s1);
        assertEquals(BackendQueue.Refusal.NO_SERVER,
                assertInstanceOf(BackendQueue.Refused.class, admit(q, null)).refusal());
    }

    @Test
    void maxConnectionsIsKeptAndZeroIsUnlimited() {
        Server s1 = server("s1", 3, 0);
        BackendQueue q = queue(true, s1);
        for (int i = 0; i < 3; i++) {
            granted(admit(q, s1));
        }
        queued(admit(q, s1));
        assertFalse(s1.hasFreeSlot());
        Server unlimited = server("u", 0, 0);
        BackendQueue u = queue(true, unlimited);
        for (int i = 0; i < 100; i++) {
            granted(admit(u, null));
        }
        assertTrue(unlimited.hasFreeSlot());
    }

    @Test
    void aSlotIsGivenBackOnce() {
        Server s1 = server("s1", 1, 0);
        BackendQueue q = queue(true, s1);
        BackendQueue.Slot slot = granted(admit(q, null));
        slot.release();
        slot.release();
        assertEquals(0, s1.activeSessions());
    }

    /**
     * A reload removes the server some sessions wait for in particular and adds another: with
     * redispatch they get the new server's free slots, in arrival order; slots held on the removed
     * server are given back as usual, to nobody.
     */
    @Test
    void aReloadServesWaitersUnderTheNewLayout() {
        Server s1 = server("s1", 1, 0);
        BackendQueue q = queue(true, s1);
        BackendQueue.Slot held = granted(admit(q, s1));
        BackendQueue.Waiter first = queued(admit(q, s1));
        BackendQueue.Waiter second = queued(admit(q, null));
        Server s2 = server("s2", 1, 0);
        s1.retire();
        q.reconfigure(List.of(s2), Balancer.of(Balance.LEASTCONN, List.of(s2)), false, true);
        assertSame(s2, slotOf(first).server(), "the removed server's waiter took the new server's slot");
        assertNull(slotOf(second), "one slot: the second waits");
        held.release();
        assertEquals(0, s1.activeSessions());
        assertNull(slotOf(second), "a slot freed on the removed server goes to nobody");
        slotOf(first).release();
        assertSame(s2, slotOf(second).server());
        // Negative control: without redispatch the removed server's waiter stays where it is.
        Server s3 = server("s3", 1, 0);
        BackendQueue r = queue(false, s3);
        granted(admit(r, s3));
        BackendQueue.Waiter stuck = queued(admit(r, s3));
        Server s4 = server("s4", 1, 0);
        s3.retire();
        r.reconfigure(List.of(s4), Balancer.of(Balance.LEASTCONN, List.of(s4)), false, false);
        assertNull(slotOf(stuck));
        assertEquals(1, r.size());
    }

    /** {@code set maxconn server} on a backend without limits: new sessions wait from then on, and a raise serves them in order. */
    @Test
    void aRuntimeLimitIsFollowedAtOnce() {
        Server s1 = server("s1", 0, 0);
        BackendQueue q = queue(true, s1);
        BackendQueue.Slot first = granted(admit(q, null));
        granted(admit(q, null));
        q.maxConnectionsChanged(s1, 2);
        BackendQueue.Waiter a = queued(admit(q, null));
        BackendQueue.Waiter b = queued(admit(q, null));
        q.maxConnectionsChanged(s1, 3);
        assertSame(s1, slotOf(a).server(), "the raise gave the first waiter the new slot");
        assertNull(slotOf(b));
        first.release();
        assertSame(s1, slotOf(b).server(), "a freed slot is handed on under the runtime limit");
        q.maxConnectionsChanged(s1, 0);
        granted(admit(q, null));
        assertEquals(4, s1.activeSessions(), "negative control: without a limit nobody waits");
    }
}
