package io.mailproxy.session;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The sessions of a process that have not ended: what a stop walks through, and waits for.
 *
 * <p>Threading: sessions add and remove themselves from their own event loops; readers take a
 * snapshot.
 */
public final class Sessions {

    private final Set<Session> live = ConcurrentHashMap.newKeySet();
    private final Object emptied = new Object();

    void add(Session s) {
        live.add(s);
    }

    void remove(Session s) {
        live.remove(s);
        if (live.isEmpty()) {
            synchronized (emptied) {
                emptied.notifyAll();
            }
        }
    }

    /** Sessions that have not ended now. */
    public int size() {
        return live.size();
    }

    /** A snapshot of the sessions that have not ended. */
    public List<Session> snapshot() {
        return List.copyOf(live);
    }

    /** Asks every session to stop as its frontend's {@code shutdown-grace} says. */
    public void stopAll() {
        for (Session s : snapshot()) {
            s.stop();
        }
    }

    /** Ends every session now, logged as stopping. */
    public void killAll(String why) {
        for (Session s : snapshot()) {
            s.kill(why);
        }
    }

    /** Waits until no session is left or {@code timeout} has passed; true when none is left. */
    public boolean awaitEmpty(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (emptied) {
            while (!live.isEmpty()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                try {
                    emptied.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return live.isEmpty();
                }
            }
            return true;
        }
    }
}
