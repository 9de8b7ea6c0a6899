package io.mailproxy.stick;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link StickTable} with one million entries (a full table of {@code size = 1000000}): what one
 * session's stick match and store cost, and what eviction and expiry add.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar StickTableBenchmark}. Keys are IPv4
 * addresses in their mapped form, as the table holds them; the clock is the test's, so that
 * {@link #expiredMatchAndStore} finds every entry expired.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgs = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class StickTableBenchmark {

    static final int ENTRIES = 1_000_000;
    private static final long EXPIRE_MS = 30 * 60_000L;
    private static final String[] SERVERS = {"dc1", "dc2", "dc3", "dc4"};

    private final AtomicLong millis = new AtomicLong();
    private StickTable table;
    /** The stored keys' low halves, in random order: lookups do not walk the arrays in order. */
    private long[] keys;
    /** Keys not in the table. */
    private long[] absent;
    private int next;
    private long fresh;

    @Setup(Level.Iteration)
    public void fill() {
        millis.set(0);
        table = new StickTable("bench", ENTRIES, Duration.ofMillis(EXPIRE_MS), millis::get);
        SplittableRandom random = new SplittableRandom(42);
        keys = new long[ENTRIES];
        absent = new long[ENTRIES];
        for (int i = 0; i < ENTRIES; i++) {
            keys[i] = mapped(i);
            absent[i] = mapped(ENTRIES + i);
        }
        for (int i = ENTRIES - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            long t = keys[i];
            keys[i] = keys[j];
            keys[j] = t;
        }
        for (int i = 0; i < ENTRIES; i++) {
            table.store(0, keys[i], SERVERS[i & 3]);
        }
        next = 0;
        fresh = 2L * ENTRIES;
    }

    private static long mapped(long ipv4) {
        return 0x0000_FFFF_0000_0000L | (ipv4 & 0xFFFF_FFFFL);
    }

    private long nextKey() {
        long k = keys[next];
        next = next + 1 == ENTRIES ? 0 : next + 1;
        return k;
    }

    /** stick match of a client in the table (the entry's use time is refreshed). */
    @Benchmark
    public String matchHit() {
        return table.match(0, nextKey());
    }

    /** stick match of a client not in the table. */
    @Benchmark
    public String matchMiss() {
        long k = absent[next];
        next = next + 1 == ENTRIES ? 0 : next + 1;
        return table.match(0, k);
    }

    /** stick store over an existing entry: what follows every session's connect. */
    @Benchmark
    public String storeExisting() {
        return table.store(0, nextKey(), "dc2");
    }

    /** stick store of a new client into the full table: each one evicts the oldest of a sample. */
    @Benchmark
    public String storeNewEvicting() {
        millis.incrementAndGet();
        return table.store(0, mapped(fresh++), "dc3");
    }

    /**
     * Expiry: the clock moves past {@code expire} before each operation, so the match finds its
     * entry expired and drops it (shifting its probe run back), and the store inserts it anew.
     */
    @Benchmark
    public String expiredMatchAndStore() {
        millis.addAndGet(EXPIRE_MS);
        long k = nextKey();
        table.match(0, k);
        return table.store(0, k, "dc4");
    }
}
