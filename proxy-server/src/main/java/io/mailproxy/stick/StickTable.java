package io.mailproxy.stick;

import io.mailproxy.config.StickTableSettings;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Client address to server name, as HAProxy's {@code stick-table type ip} with {@code stick on src}
 * keeps it: bounded, entries expire {@code expire} after their last use, and when the table is full
 * the least recently used entry goes. IPv4 and IPv6 addresses share one table; an IPv4-mapped IPv6
 * address ({@code ::ffff:a.b.c.d}) is the same key as {@code a.b.c.d}.
 *
 * <p>Servers are stored by name, not by position, so a table shared by an IMAP and a POP3 backend
 * sends a client to the server of the same name in each (HAProxy's {@code srvkey name}).
 *
 * <p>Layout, for at most 36 bytes per entry: open addressing with linear probing over three
 * primitive arrays per segment. A slot holds the whole 128-bit key (an IPv4 address in its
 * IPv4-mapped form) in two {@code long}s, so two clients can never share an entry, and one
 * {@code long} packing the server (an index into the table's name dictionary, 16 bits, 0 = empty
 * slot) with the time of last use (milliseconds since the table was made, 48 bits: 8,900 years).
 * That is 24 bytes a slot, and a segment has 1.5 slots per entry it may hold (load at most 2/3,
 * where a miss probes about 5 slots). A linked LRU list or {@code LinkedHashMap} would cost 80 to
 * 100 bytes per entry in node objects alone; deletion shifts the entries behind it back instead of
 * leaving tombstones, so a table that churns does not fill with them.
 *
 * <p>Eviction is approximately LRU, as Redis does it: when the table is full (or the segment the
 * new key hashes to, which may take a fifth more than its share), the oldest of 8 randomly sampled
 * entries of that segment goes (all of them are compared in segments of at most 64 slots, where
 * eviction is exact). An entry just used is never among the oldest of a sample unless every sampled
 * entry is as recent, which with thousands of entries per segment is rare. Expired entries are
 * dropped when a lookup meets them, and each store also sweeps a few slots behind a cursor, so
 * entries that nobody looks up again do not stay forever.
 *
 * <p>Threading: called from every event loop. The table is split into up to 64 segments by the
 * key's hash, each guarded by its own monitor. Work under a monitor is O(1) expected (one probe
 * sequence, at most one eviction sample and a sweep of 4 slots) and never waits for anything
 * else (the table-wide entry count is an atomic integer), so a lookup holds it for well under a microsecond and an event loop never blocks on I/O
 * or on another long holder. The name dictionary is copy-on-write: it grows once per server name.
 */
public final class StickTable {

    /** Segments never exceed this; more buy nothing with a handful of event loops. */
    static final int MAX_SEGMENTS = 64;
    /** A table splits into segments of at least this many entries, so small tables stay exact. */
    static final int MIN_SEGMENT_ENTRIES = 4096;
    /** Entries compared per eviction in a large segment (Redis' maxmemory-samples is 5). */
    static final int SAMPLES = 8;
    /** Segments of at most this many slots compare every entry on eviction: exact LRU. */
    static final int EXACT_SCAN_SLOTS = 64;
    /** Slots each store looks at for expired entries. */
    static final int SWEEP_SLOTS = 4;
    /** The server field is 16 bits, 0 meaning an empty slot. */
    static final int MAX_SERVER_NAMES = 0xFFFF;

    private static final int TIME_BITS = 48;
    private static final long TIME_MASK = (1L << TIME_BITS) - 1;

    private final String name;
    private final int size;
    private final long expireMillis;
    private final Clock clock;
    private final Segment[] segments;
    private final int segmentMask;
    /** Entries in all segments: the table's bound is on this, not on each segment. */
    private final AtomicInteger entries = new AtomicInteger();
    private final Map<String, Integer> serverIndexes = new ConcurrentHashMap<>();
    private volatile String[] serverNames = new String[0];

    /**
     * A table holding at most {@code size} entries, each living {@code expire} after its last use
     * (null: until the table is full); {@code clockMillis} is a monotonic clock in milliseconds,
     * injectable for tests.
     */
    StickTable(String name, int size, Duration expire, LongSupplier clockMillis) {
        this(name, size, expire, new Clock(clockMillis));
    }

    /** Milliseconds since the first table of a line of reloads was made: entries keep their times across a resize. */
    private record Clock(LongSupplier source, long start) implements LongSupplier {
        Clock(LongSupplier source) {
            this(source, source.getAsLong());
        }

        @Override
        public long getAsLong() {
            return source.getAsLong() - start;
        }
    }

    private StickTable(String name, int size, Duration expire, Clock clock) {
        if (size < 1 || size > StickTableSettings.MAX_SIZE) {
            throw new IllegalArgumentException("size " + size + " is not within 1.." + StickTableSettings.MAX_SIZE);
        }
        this.name = name;
        this.size = size;
        this.expireMillis = expire == null ? Long.MAX_VALUE : Math.max(1, expire.toMillis());
        this.clock = clock;
        int n = Integer.highestOneBit(Math.max(1, Math.min(MAX_SEGMENTS, size / MIN_SEGMENT_ENTRIES)));
        this.segments = new Segment[n];
        for (int i = 0; i < n; i++) {
            // A segment's share of the size; a segment may hold a fifth more, as keys never spread
            // evenly (at 1m entries a share of 16,384 varies by about 128), while the table as a
            // whole holds at most size.
            int share = size / n + (i < size % n ? 1 : 0);
            segments[i] = new Segment(share, n == 1 ? share : share + share / 5);
        }
        this.segmentMask = n - 1;
    }

    /** The table for {@code settings}, on the JVM's monotonic clock. */
    public static StickTable of(StickTableSettings settings) {
        return new StickTable(settings.name(), settings.size(), settings.expire(),
                () -> System.nanoTime() / 1_000_000);
    }

    public String name() {
        return name;
    }

    /**
     * This table's entries in a table of {@code next}'s size and expiry, for a reload that changes
     * them: the most recently used entries are kept (as many as fit), each with its time of last
     * use, so it expires when it would have. Stores made into this table while the copy runs may be
     * missed; the caller switches its users to the copy right after.
     */
    public StickTable resized(StickTableSettings next) {
        StickTable copy = new StickTable(next.name(), next.size(), next.expire(), clock);
        long now = clock.getAsLong();
        List<long[]> live = new ArrayList<>(Math.min(entries.get(), next.size() * 2));
        for (Segment s : segments) {
            synchronized (s) {
                for (int i = 0; i < s.capacity; i++) {
                    long meta = s.meta[i];
                    if (meta != 0 && now - (meta & TIME_MASK) < copy.expireMillis) {
                        live.add(new long[] {s.hi[i], s.lo[i], meta});
                    }
                }
            }
        }
        // read after the walk: every server an entry names is in it
        String[] names = serverNames;
        // Oldest first: if a segment of the copy fills, what it evicts is older than what comes.
        live.sort(Comparator.comparingLong(e -> e[2] & TIME_MASK));
        for (int i = Math.max(0, live.size() - next.size()); i < live.size(); i++) {
            long[] e = live.get(i);
            copy.restore(e[0], e[1], names[serverOf(e[2]) - 1], e[2] & TIME_MASK);
        }
        return copy;
    }

    /** An entry copied from another table, with its time of last use. */
    private void restore(long hi, long lo, String serverName, long lastUse) {
        int server = serverIndex(serverName);
        long h = hash(hi, lo);
        Segment s = segments[(int) (h >>> 58) & segmentMask];
        synchronized (s) {
            int i = s.find(hi, lo, h);
            if (i >= 0) {
                s.meta[i] = pack(server, lastUse);
                return;
            }
            if ((entries.incrementAndGet() > size || s.count >= s.maxEntries) && s.count > 0) {
                s.evictOne();
                i = s.find(hi, lo, h);
            }
            i = -1 - i;
            s.hi[i] = hi;
            s.lo[i] = lo;
            s.meta[i] = pack(server, lastUse);
            s.count++;
        }
    }

    /** How long an entry lives after its last use; null: until the table is full. */
    public Duration expire() {
        return expireMillis == Long.MAX_VALUE ? null : Duration.ofMillis(expireMillis);
    }

    /** The most entries held at once. */
    public int size() {
        return size;
    }

    /** Entries held now, counting expired ones that no lookup or sweep has dropped yet. */
    public int count() {
        return entries.get();
    }

    /**
     * {@code stick match}: the server name stored for {@code client}, or null when there is none or
     * it expired. A match counts as a use: the entry's life starts again.
     */
    public String match(InetAddress client) {
        byte[] a = client.getAddress();
        return match(hi(a), lo(a));
    }

    /**
     * {@code stick store}: {@code client} goes to {@code server} from now on. Returns the server
     * name this replaced when it differs (a live entry pointed elsewhere), else null.
     */
    public String store(InetAddress client, String server) {
        byte[] a = client.getAddress();
        return store(hi(a), lo(a), server);
    }

    /**
     * One entry as the runtime API shows it ({@code show table}).
     *
     * @param key              the client address (IPv4 for {@code ::ffff:a.b.c.d})
     * @param server           the server name stored
     * @param expiresInMillis  ms until it expires; -1 when entries never expire
     */
    public record Entry(InetAddress key, String server, long expiresInMillis) {
    }

    /** Up to {@code limit} live entries, segment by segment (each read under its lock); no use is counted. */
    public java.util.List<Entry> entries(int limit) {
        java.util.List<Entry> out = new java.util.ArrayList<>();
        long now = clock.getAsLong();
        for (Segment s : segments) {
            synchronized (s) {
                for (int i = 0; i < s.capacity && out.size() < limit; i++) {
                    if (s.meta[i] != 0 && !expired(s.meta[i], now)) {
                        out.add(entry(s.hi[i], s.lo[i], s.meta[i], now));
                    }
                }
            }
        }
        return out;
    }

    /** The live entry of {@code client}, or null; no use is counted ({@code show table t key k}). */
    public Entry lookup(InetAddress client) {
        byte[] a = client.getAddress();
        long hi = hi(a);
        long lo = lo(a);
        long h = hash(hi, lo);
        Segment s = segmentOf(h);
        long now = clock.getAsLong();
        synchronized (s) {
            int i = s.find(hi, lo, h);
            return i < 0 || expired(s.meta[i], now) ? null : entry(hi, lo, s.meta[i], now);
        }
    }

    /** Removes the entry of {@code client}; true when there was one ({@code clear table t key k}). */
    public boolean remove(InetAddress client) {
        byte[] a = client.getAddress();
        long h = hash(hi(a), lo(a));
        Segment s = segmentOf(h);
        synchronized (s) {
            int i = s.find(hi(a), lo(a), h);
            if (i < 0) {
                return false;
            }
            s.delete(i);
            return true;
        }
    }

    /** Removes every entry ({@code clear table t}); returns how many there were. */
    public int clear() {
        int n = 0;
        for (Segment s : segments) {
            synchronized (s) {
                for (int i = 0; i < s.capacity; i++) {
                    if (s.meta[i] != 0) {
                        s.hi[i] = 0;
                        s.lo[i] = 0;
                        s.meta[i] = 0;
                        n++;
                    }
                }
                entries.addAndGet(-s.count);
                s.count = 0;
            }
        }
        return n;
    }

    private Segment segmentOf(long hash) {
        return segments[(int) (hash >>> 58) & segmentMask];
    }

    private Entry entry(long hi, long lo, long meta, long now) {
        byte[] b = new byte[16];
        for (int k = 0; k < 8; k++) {
            b[k] = (byte) (hi >>> (56 - 8 * k));
            b[8 + k] = (byte) (lo >>> (56 - 8 * k));
        }
        InetAddress key;
        try {
            // InetAddress gives an Inet4Address for ::ffff:a.b.c.d
            key = InetAddress.getByAddress(b);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
        long expires = expireMillis == Long.MAX_VALUE ? -1 : expireMillis - (now - (meta & TIME_MASK));
        return new Entry(key, serverNames[serverOf(meta) - 1], expires);
    }

    String match(long hi, long lo) {
        long h = hash(hi, lo);
        Segment s = segments[(int) (h >>> 58) & segmentMask];
        long now = clock.getAsLong();
        int server;
        synchronized (s) {
            int i = s.find(hi, lo, h);
            if (i < 0) {
                return null;
            }
            long meta = s.meta[i];
            if (expired(meta, now)) {
                s.delete(i);
                return null;
            }
            server = serverOf(meta);
            s.meta[i] = pack(server, now);
        }
        return serverNames[server - 1];
    }

    String store(long hi, long lo, String serverName) {
        int server = serverIndex(serverName);
        if (server == 0) {
            return null;
        }
        long h = hash(hi, lo);
        Segment s = segments[(int) (h >>> 58) & segmentMask];
        long now = clock.getAsLong();
        int previous = 0;
        synchronized (s) {
            int i = s.find(hi, lo, h);
            if (i >= 0) {
                long meta = s.meta[i];
                previous = expired(meta, now) ? 0 : serverOf(meta);
                s.meta[i] = pack(server, now);
            } else {
                // The new entry is counted first: whoever takes the table past its size evicts, so
                // concurrent stores in different segments cannot both slip in under the bound.
                if ((entries.incrementAndGet() > size || s.count >= s.maxEntries) && s.count > 0) {
                    s.evictOne();
                    i = s.find(hi, lo, h);
                }
                i = -1 - i;
                s.hi[i] = hi;
                s.lo[i] = lo;
                s.meta[i] = pack(server, now);
                s.count++;
            }
            s.sweep(now);
        }
        return previous == 0 || previous == server ? null : serverNames[previous - 1];
    }

    private boolean expired(long meta, long now) {
        return now - (meta & TIME_MASK) >= expireMillis;
    }

    /** The 1-based index of {@code serverName} in the dictionary, added on first use; 0 when full. */
    private int serverIndex(String serverName) {
        Integer known = serverIndexes.get(serverName);
        if (known != null) {
            return known;
        }
        synchronized (serverIndexes) {
            known = serverIndexes.get(serverName);
            if (known != null) {
                return known;
            }
            String[] names = serverNames;
            if (names.length >= MAX_SERVER_NAMES) {
                // Names come from the configuration's servers, so this needs 65,535 of them.
                return 0;
            }
            String[] grown = java.util.Arrays.copyOf(names, names.length + 1);
            grown[names.length] = serverName;
            // Published before the index, so whoever sees the index finds the name.
            serverNames = grown;
            serverIndexes.put(serverName, grown.length);
            return grown.length;
        }
    }

    private static long pack(int server, long now) {
        return ((long) server << TIME_BITS) | (now & TIME_MASK);
    }

    private static int serverOf(long meta) {
        return (int) (meta >>> TIME_BITS);
    }

    /** The high 64 bits of the key: 0 for IPv4, which is kept in its IPv4-mapped IPv6 form. */
    static long hi(byte[] address) {
        return address.length == 4 ? 0 : longAt(address, 0);
    }

    /** The low 64 bits of the key: {@code ::ffff:a.b.c.d} for IPv4 {@code a.b.c.d}. */
    static long lo(byte[] address) {
        if (address.length == 4) {
            return 0x0000_FFFF_0000_0000L | (longAt4(address) & 0xFFFF_FFFFL);
        }
        return longAt(address, 8);
    }

    private static long longAt(byte[] b, int off) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[off + i] & 0xFF);
        }
        return v;
    }

    private static long longAt4(byte[] b) {
        return ((b[0] & 0xFFL) << 24) | ((b[1] & 0xFFL) << 16) | ((b[2] & 0xFFL) << 8) | (b[3] & 0xFFL);
    }

    /** Murmur3's 64-bit finalizer over both halves: neighbouring addresses spread over segments and slots. */
    static long hash(long hi, long lo) {
        return mix(lo ^ mix(hi ^ 0x9E37_79B9_7F4A_7C15L));
    }

    private static long mix(long k) {
        k ^= k >>> 33;
        k *= 0xFF51_AFD7_ED55_8CCDL;
        k ^= k >>> 33;
        k *= 0xC4CE_B9FE_1A85_EC53L;
        k ^= k >>> 33;
        return k;
    }

    /** One lock's share of the table: a linear-probing hash table over primitive arrays. */
    private final class Segment {
        /** The most entries this segment holds, even while others have room. */
        final int maxEntries;
        final int capacity;
        final long[] hi;
        final long[] lo;
        /** Server index (16 bits, 0 = empty) and last use (48 bits). */
        final long[] meta;
        int count;
        int sweepCursor;

        Segment(int share, int maxEntries) {
            this.maxEntries = maxEntries;
            // Load 2/3 at its share (4/5 at most), and always one empty slot so that every probe ends.
            this.capacity = share + share / 2 + 1;
            this.hi = new long[capacity];
            this.lo = new long[capacity];
            this.meta = new long[capacity];
        }

        /** Where a key's probe sequence starts: the hash's low 32 bits scaled to the capacity. */
        int home(long h) {
            return (int) (((h & 0xFFFF_FFFFL) * capacity) >>> 32);
        }

        /** The key's slot, or {@code -1 - slot} of the empty slot where it would go. */
        int find(long k1, long k2, long h) {
            int i = home(h);
            while (meta[i] != 0) {
                if (hi[i] == k1 && lo[i] == k2) {
                    return i;
                }
                i = i + 1 == capacity ? 0 : i + 1;
            }
            return -1 - i;
        }

        /**
         * Empties slot {@code i} and shifts back the entries of its probe run that could not be
         * found across an empty slot (Knuth's algorithm R): no tombstones.
         */
        void delete(int i) {
            int j = i;
            while (true) {
                j = j + 1 == capacity ? 0 : j + 1;
                if (meta[j] == 0) {
                    break;
                }
                int home = home(hash(hi[j], lo[j]));
                boolean stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
                if (!stays) {
                    hi[i] = hi[j];
                    lo[i] = lo[j];
                    meta[i] = meta[j];
                    i = j;
                }
            }
            hi[i] = 0;
            lo[i] = 0;
            meta[i] = 0;
            count--;
            entries.decrementAndGet();
        }

        /** Drops the least recently used of all entries (small segments) or of a random sample. */
        void evictOne() {
            int victim = -1;
            long oldest = Long.MAX_VALUE;
            if (capacity <= EXACT_SCAN_SLOTS) {
                for (int i = 0; i < capacity; i++) {
                    if (meta[i] != 0 && (meta[i] & TIME_MASK) < oldest) {
                        oldest = meta[i] & TIME_MASK;
                        victim = i;
                    }
                }
            } else {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                // The segment is full, so two slots in three are taken: 8 samples take ~12 tries.
                for (int tries = 0, sampled = 0; sampled < SAMPLES && tries < SAMPLES * 8; tries++) {
                    int i = random.nextInt(capacity);
                    if (meta[i] != 0) {
                        sampled++;
                        if ((meta[i] & TIME_MASK) < oldest) {
                            oldest = meta[i] & TIME_MASK;
                            victim = i;
                        }
                    }
                }
            }
            if (victim >= 0) {
                delete(victim);
            }
        }

        /** Drops expired entries among the next few slots. */
        void sweep(long now) {
            if (expireMillis == Long.MAX_VALUE) {
                return;
            }
            for (int n = 0; n < SWEEP_SLOTS; n++) {
                int i = sweepCursor;
                if (meta[i] != 0 && expired(meta[i], now)) {
                    // A later entry may shift into slot i; the next round looks at it.
                    delete(i);
                }
                sweepCursor = i + 1 == capacity ? 0 : i + 1;
            }
        }
    }
}
