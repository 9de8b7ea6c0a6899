package io.mailproxy.stats;

import io.netty.util.concurrent.FastThreadLocal;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Counters that cost an event loop one plain store: each thread that counts (an event loop) has its
 * own array of every counter, which only it writes; a reader sums the arrays of all threads.
 *
 * <p>Why: a shared {@code AtomicLong} per counter would make every event loop fight for one cache
 * line on each relayed buffer. Here a thread's array lives in its own allocation and is written
 * with opaque stores (a plain {@code mov} on x86, no fence, no lock), so counting is as cheap as a
 * field write; readers see each value whole (opaque reads) but not a consistent cut across
 * counters, which statistics do not need. A session caches its loop's array ({@link #stripe()}) so
 * its counting does not even look up the thread local.
 *
 * <p>Threads that die leave their arrays behind: their counts stay in the sums.
 */
public final class LoopCounters {

    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    private final int size;
    private final List<long[]> stripes = new CopyOnWriteArrayList<>();
    private final FastThreadLocal<long[]> local = new FastThreadLocal<>() {
        @Override
        protected long[] initialValue() {
            long[] a = new long[size];
            stripes.add(a);
            return a;
        }
    };

    /** Counters numbered 0 to {@code size - 1}. */
    public LoopCounters(int size) {
        this.size = size;
    }

    /** This thread's array, to pass to {@link #add(long[], int, long)}; only this thread may add to it. */
    public long[] stripe() {
        return local.get();
    }

    /** Adds {@code n} to counter {@code index} in the calling thread's own {@code stripe}. */
    public static void add(long[] stripe, int index, long n) {
        LONGS.setOpaque(stripe, index, (long) LONGS.getOpaque(stripe, index) + n);
    }

    /** Sets counter {@code index} of the calling thread's own {@code stripe} (for times and rate windows). */
    static void set(long[] stripe, int index, long value) {
        LONGS.setOpaque(stripe, index, value);
    }

    static long get(long[] stripe, int index) {
        return (long) LONGS.getOpaque(stripe, index);
    }

    /** Adds {@code n} to counter {@code index} from the calling thread. */
    public void add(int index, long n) {
        add(stripe(), index, n);
    }

    /** The sum of counter {@code index} over every thread. */
    public long sum(int index) {
        long total = 0;
        for (long[] a : stripes) {
            total += get(a, index);
        }
        return total;
    }

    /** The largest value of counter {@code index} over every thread (for times). */
    public long max(int index) {
        long max = 0;
        for (long[] a : stripes) {
            max = Math.max(max, get(a, index));
        }
        return max;
    }

    /** Every thread's array, for readers that combine several counters (rates). */
    List<long[]> stripes() {
        return stripes;
    }

    public int size() {
        return size;
    }
}
