package io.mailproxy.stats;

import io.mailproxy.log.Termination;
import io.mailproxy.proxyprotocol.ProxyProtocolError;

/**
 * The counters of one frontend, backend or server: a block of {@link LoopCounters} (every
 * {@link Stat}, a count per {@link Termination} and per PROXY header error), plus the few maxima
 * that only change when a new high is reached.
 *
 * <p>Writers pass their event loop's stripe and are the only writers of it; any thread may read.
 */
public final class ProxyCounters {

    private static final int TERMINATIONS = Stat.count();
    private static final int PROXY_ERRORS = TERMINATIONS + Termination.values().length;
    /** Counters in one block. */
    static final int SIZE = PROXY_ERRORS + ProxyProtocolError.values().length;

    private final LoopCounters loop;
    private final int base;
    private volatile long maxSessions;
    private volatile long maxQueue;
    private volatile long maxRate;

    ProxyCounters(LoopCounters loop, int base) {
        this.loop = loop;
        this.base = base;
    }

    /** Adds {@code n} to {@code stat} in the calling loop's {@code stripe}. */
    public void add(long[] stripe, Stat stat, long n) {
        LoopCounters.add(stripe, base + stat.ordinal(), n);
    }

    /** A session ended this way. */
    public void ended(long[] stripe, Termination t) {
        LoopCounters.add(stripe, base + TERMINATIONS + t.ordinal(), 1);
    }

    /** A PROXY header was refused with {@code e}. */
    public void proxyRejected(long[] stripe, ProxyProtocolError e) {
        LoopCounters.add(stripe, base + PROXY_ERRORS + e.ordinal(), 1);
    }

    /**
     * A new session at {@code nowMillis}: counted in {@link Stat#SESSIONS}, the loop's rate window and
     * the last session's time; {@code concurrent} (the sessions open now) may raise the maximum.
     */
    public void session(long[] stripe, long nowMillis, long concurrent) {
        add(stripe, Stat.SESSIONS, 1);
        LoopCounters.set(stripe, base + Stat.LAST_SESSION_MILLIS.ordinal(), nowMillis);
        long second = nowMillis / 1000;
        int sec = base + Stat.RATE_SECOND.ordinal();
        int cur = base + Stat.RATE_CURRENT.ordinal();
        long was = LoopCounters.get(stripe, sec);
        if (was != second) {
            LoopCounters.set(stripe, base + Stat.RATE_PREVIOUS.ordinal(), was == second - 1 ? LoopCounters.get(stripe, cur) : 0);
            LoopCounters.set(stripe, cur, 0);
            LoopCounters.set(stripe, sec, second);
        }
        LoopCounters.add(stripe, cur, 1);
        sessionsNow(concurrent);
        long rate = rate(nowMillis);
        if (rate > maxRate) {
            raise(rate, 2);
        }
    }

    /** The sessions open now, for the maximum ({@code smax}). */
    public void sessionsNow(long concurrent) {
        if (concurrent > maxSessions) {
            raise(concurrent, 0);
        }
    }

    /** The sessions waiting now, for the maximum ({@code qmax}). */
    public void queueNow(long waiting) {
        if (waiting > maxQueue) {
            raise(waiting, 1);
        }
    }

    private synchronized void raise(long value, int which) {
        switch (which) {
            case 0 -> maxSessions = Math.max(maxSessions, value);
            case 1 -> maxQueue = Math.max(maxQueue, value);
            default -> maxRate = Math.max(maxRate, value);
        }
    }

    public long get(Stat stat) {
        return stat == Stat.LAST_SESSION_MILLIS ? loop.max(base + stat.ordinal()) : loop.sum(base + stat.ordinal());
    }

    public long terminations(Termination t) {
        return loop.sum(base + TERMINATIONS + t.ordinal());
    }

    public long proxyRejections(ProxyProtocolError e) {
        return loop.sum(base + PROXY_ERRORS + e.ordinal());
    }

    /**
     * Sessions per second over the last second, as HAProxy's {@code read_freq_ctr()}: this second's
     * count plus the previous second's, weighted by the part of it still within the last second.
     */
    public long rate(long nowMillis) {
        long second = nowMillis / 1000;
        long current = 0;
        long previous = 0;
        for (long[] a : loop.stripes()) {
            long s = LoopCounters.get(a, base + Stat.RATE_SECOND.ordinal());
            if (s == second) {
                current += LoopCounters.get(a, base + Stat.RATE_CURRENT.ordinal());
                previous += LoopCounters.get(a, base + Stat.RATE_PREVIOUS.ordinal());
            } else if (s == second - 1) {
                previous += LoopCounters.get(a, base + Stat.RATE_CURRENT.ordinal());
            }
        }
        return current + previous * (1000 - nowMillis % 1000) / 1000;
    }

    public long maxSessions() {
        return maxSessions;
    }

    public long maxQueue() {
        return maxQueue;
    }

    public long maxRate() {
        return maxRate;
    }
}
