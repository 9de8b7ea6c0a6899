package io.mailproxy.stick;

import io.mailproxy.config.StickTableSettings;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
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
 * primitive arrays per segment ({@link Segment}). A slot holds the whole 128-bit key (an IPv4
 * address in its IPv4-mapped form) in two {@code long}s, so two clients can never share an entry,
 * and one {@code long} packing the server (an index into the table's {@link ServerNames}, 16 bits)
 * with a time stamp (48 bits: when the entry expires, or when it was last used in a table without
 * {@code expire}). That is 24 bytes a slot, and a segment has 1.5 slots per entry it may hold
 * (load at most 2/3, where a miss probes about 5 slots). A linked LRU list or {@code LinkedHashMap}
 * would cost 80 to 100 bytes per entry in node objects alone; deletion shifts the entries behind it
 * back instead of leaving tombstones, so a table that churns does not fill with them.
 *
 * <p>Eviction is approximately LRU, as Redis does it: when the table is full (or the segment the
 * new key hashes to, which may take a fifth more than its share), the oldest of 8 randomly sampled
 * entries of that segment goes (all of them are compared in segments of at most 64 slots, where
 * eviction is exact). Expired entries are dropped when a lookup meets them, and each store also
 * sweeps a few slots behind a cursor, so entries that nobody looks up again do not stay forever.
 *
 * <p>A table synced with peers ({@code peers = true}) also numbers its local updates, as HAProxy
 * does: every store, and every match that renews an entry, gives the entry the next sequence
 * number (unless its previous one has not been sent to any peer yet: that send will carry the new
 * state) and records the key in an {@link UpdateLog}; the {@link UpdateListener} then wakes the
 * peers. Entries learned from peers keep the expiry the peer sent and are not numbered, so they are
 * not sent on (HAProxy does not forward learned entries either). That costs 4 bytes a slot and the
 * log's 24 bytes per record, half a record per entry: about 55 bytes per entry in all.
 *
 * <p>Threading: called from every event loop, and from the peers' event loop. The table is split
 * into up to 64 segments by the key's hash, each guarded by its own monitor. Work under a monitor
 * is O(1) expected (one probe sequence, at most one eviction sample, a sweep of 4 slots, one log
 * record) and never waits for anything else, so an event loop never blocks on I/O or on a long
 * holder; a walk for a peer copies a bounded step at a time.
 */
public final class StickTable {

    /** Told of local updates of a synced table; runs on the updating event loop and must not block. */
    @FunctionalInterface
    public interface UpdateListener {
        UpdateListener NONE = () -> { };

        void updated();
    }

    /**
     * An entry as {@link #peek} and {@link #entries} see it (the runtime API's {@code show table}).
     *
     * @param key             the client address (IPv4 for {@code ::ffff:a.b.c.d})
     * @param remainingMillis ms until it expires; -1 when entries do not expire
     */
    public record Entry(InetAddress key, String server, int serverId, long remainingMillis) {
    }

    /** What {@link #readUpdates} returns when the log no longer holds the next update. */
    public static final long LOST = -1;
    /** What {@link #walk} returns at the end of the table. */
    public static final long WALK_DONE = -1;

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

    private final String name;
    private final int size;
    /** The entries' life after a use; 0 when they do not expire. */
    private final long expireMillis;
    private final Clock clock;
    private final Segment[] segments;
    private final int segmentMask;
    /** Entries in all segments: the table's bound is on this, not on each segment. */
    private final AtomicInteger entries = new AtomicInteger();
    private final ServerNames servers = new ServerNames();
    /** Null unless synced. */
    private final UpdateLog log;
    /** The last local update's sequence number (HAProxy's {@code localupdate}, 64 bits here). */
    private final AtomicLong updates = new AtomicLong();
    /** The furthest update sent to any peer (HAProxy's {@code commitupdate}). */
    private volatile long committed;
    private volatile UpdateListener listener = UpdateListener.NONE;

    /**
     * A table holding at most {@code size} entries, each living {@code expire} after its last use
     * (null: until the table is full); {@code clockMillis} is a monotonic clock in milliseconds,
     * injectable for tests.
     */
    StickTable(String name, int size, Duration expire, LongSupplier clockMillis) {
        this(name, size, expire, clockMillis, false);
    }

    /** As above; {@code synced}: numbers its local updates for peers. */
    StickTable(String name, int size, Duration expire, LongSupplier clockMillis, boolean synced) {
        this(name, size, expire, new Clock(clockMillis), synced);
    }

    /**
     * Milliseconds since the first table of a line of reloads was made: a table resized by a
     * reload shares its predecessor's clock, so its entries' stamps mean the same.
     */
    private record Clock(LongSupplier source, long start) implements LongSupplier {
        Clock(LongSupplier source) {
            this(source, source.getAsLong());
        }

        @Override
        public long getAsLong() {
            return source.getAsLong() - start;
        }
    }

    private StickTable(String name, int size, Duration expire, Clock clock, boolean synced) {
        if (size < 1 || size > StickTableSettings.MAX_SIZE) {
            throw new IllegalArgumentException("size " + size + " is not within 1.." + StickTableSettings.MAX_SIZE);
        }
        this.name = name;
        this.size = size;
        this.expireMillis = expire == null ? 0 : Math.max(1, expire.toMillis());
        this.clock = clock;
        int n = Integer.highestOneBit(Math.max(1, Math.min(MAX_SEGMENTS, size / MIN_SEGMENT_ENTRIES)));
        this.segments = new Segment[n];
        for (int i = 0; i < n; i++) {
            // A segment's share of the size; a segment may hold a fifth more, as keys never spread
            // evenly (at 1m entries a share of 16,384 varies by about 128), while the table as a
            // whole holds at most size.
            int share = size / n + (i < size % n ? 1 : 0);
            segments[i] = new Segment(share, n == 1 ? share : share + share / 5, synced, expireMillis > 0, entries);
        }
        this.segmentMask = n - 1;
        this.log = synced ? new UpdateLog(size) : null;
    }

    /** The table for {@code settings}, on the JVM's monotonic clock. */
    public static StickTable of(StickTableSettings settings) {
        return new StickTable(settings.name(), settings.size(), settings.expire(),
                () -> System.nanoTime() / 1_000_000, settings.peers());
    }

    public String name() {
        return name;
    }

    /** The most entries held at once. */
    public int size() {
        return size;
    }

    /** Entries held now, counting expired ones that no lookup or sweep has dropped yet. */
    public int count() {
        return entries.get();
    }

    /** The entries' life after a use in ms, 0 when they do not expire. */
    public long expireMillis() {
        return expireMillis;
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

    /** The entry of {@code client} without using it (its life does not start again), or null. */
    public Entry peek(InetAddress client) {
        byte[] a = client.getAddress();
        long k1 = hi(a);
        long k2 = lo(a);
        long h = hash(k1, k2);
        Segment s = segment(h);
        long now = clock.getAsLong();
        long meta;
        synchronized (s) {
            int i = s.find(k1, k2, h);
            if (i < 0 || s.expired(i, now)) {
                return null;
            }
            meta = s.meta[i];
        }
        return entry(k1, k2, meta, now);
    }

    /** Up to {@code limit} live entries, segment by segment (each read under its lock); no use is counted. */
    public java.util.List<Entry> entries(int limit) {
        java.util.List<Entry> out = new java.util.ArrayList<>();
        long now = clock.getAsLong();
        for (Segment s : segments) {
            synchronized (s) {
                for (int i = 0; i < s.capacity && out.size() < limit; i++) {
                    if (s.meta[i] != 0 && !s.expired(i, now)) {
                        out.add(entry(s.hi[i], s.lo[i], s.meta[i], now));
                    }
                }
            }
        }
        return out;
    }

    /** Removes the entry of {@code client}; true when there was one ({@code clear table t key k}). */
    public boolean remove(InetAddress client) {
        byte[] a = client.getAddress();
        long h = hash(hi(a), lo(a));
        Segment s = segment(h);
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
                        if (s.upd != null) {
                            s.upd[i] = 0;
                        }
                        n++;
                    }
                }
                entries.addAndGet(-s.count);
                s.count = 0;
            }
        }
        return n;
    }

    private Entry entry(long k1, long k2, long meta, long now) {
        byte[] b = new byte[16];
        for (int k = 0; k < 8; k++) {
            b[k] = (byte) (k1 >>> (56 - 8 * k));
            b[8 + k] = (byte) (k2 >>> (56 - 8 * k));
        }
        InetAddress key;
        try {
            // InetAddress gives an Inet4Address for ::ffff:a.b.c.d
            key = InetAddress.getByAddress(b);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
        int server = Segment.serverOf(meta);
        return new Entry(key, servers.name(server), servers.id(server), remaining(Segment.stampOf(meta), now));
    }

    /** How long an entry lives after its last use; null: until the table is full. */
    public Duration expire() {
        return expireMillis == 0 ? null : Duration.ofMillis(expireMillis);
    }

    /**
     * This table's entries in a new table of {@code next}'s size and expiry, for a reload that
     * changes them (not for a synced table: its peers hold this one). The most recently used
     * entries are kept, as many as fit, each with its time of last use, so it expires when it would
     * have under the new expiry; server ids carry over. Stores made into this table while the copy
     * runs may be missed; the caller switches its users to the copy right after.
     */
    public StickTable resized(StickTableSettings next) {
        if (synced() || next.peers()) {
            throw new IllegalStateException("a synced table keeps its size until a restart");
        }
        StickTable copy = new StickTable(next.name(), next.size(), next.expire(), clock, false);
        long now = clock.getAsLong();
        java.util.List<long[]> live = new java.util.ArrayList<>(Math.min(entries.get(), next.size() * 2));
        for (Segment s : segments) {
            synchronized (s) {
                for (int i = 0; i < s.capacity; i++) {
                    long meta = s.meta[i];
                    if (meta != 0 && !s.expired(i, now)) {
                        // a stamp is the expiry where entries expire, the last use where they do not
                        long lastUse = expireMillis == 0 ? Segment.stampOf(meta) : Segment.stampOf(meta) - expireMillis;
                        if (copy.expireMillis == 0 || lastUse + copy.expireMillis > now) {
                            live.add(new long[] {s.hi[i], s.lo[i], Segment.serverOf(meta), lastUse});
                        }
                    }
                }
            }
        }
        // Oldest first: if a segment of the copy fills, what it evicts is older than what comes.
        live.sort(java.util.Comparator.comparingLong(e -> e[3]));
        for (int i = Math.max(0, live.size() - next.size()); i < live.size(); i++) {
            long[] e = live.get(i);
            String server = servers.name((int) e[2]);
            int index = copy.servers.index(server);
            int id = servers.id((int) e[2]);
            if (id != 0) {
                copy.servers.register(server, id);
            }
            long h = hash(e[0], e[1]);
            Segment s = copy.segment(h);
            synchronized (s) {
                int at = s.find(e[0], e[1], h);
                long meta = Segment.pack(index, copy.expireMillis == 0 ? e[3] : e[3] + copy.expireMillis);
                if (at >= 0) {
                    s.meta[at] = meta;
                } else {
                    s.insert(e[0], e[1], h, at, meta, copy.size);
                }
            }
        }
        return copy;
    }

    String match(long hi, long lo) {
        long h = hash(hi, lo);
        Segment s = segment(h);
        long now = clock.getAsLong();
        int server;
        boolean logged = false;
        synchronized (s) {
            int i = s.find(hi, lo, h);
            if (i < 0) {
                return null;
            }
            if (s.expired(i, now)) {
                s.delete(i);
                return null;
            }
            server = Segment.serverOf(s.meta[i]);
            s.meta[i] = Segment.pack(server, stamp(now));
            if (log != null) {
                logged = touch(s, i, hi, lo);
            }
        }
        if (logged) {
            listener.updated();
        }
        return servers.name(server);
    }

    String store(long hi, long lo, String serverName) {
        int server = servers.index(serverName);
        if (server == 0) {
            return null;
        }
        long h = hash(hi, lo);
        Segment s = segment(h);
        long now = clock.getAsLong();
        int previous = 0;
        boolean logged = false;
        synchronized (s) {
            int i = s.find(hi, lo, h);
            if (i >= 0) {
                previous = s.expired(i, now) ? 0 : Segment.serverOf(s.meta[i]);
                s.meta[i] = Segment.pack(server, stamp(now));
            } else {
                i = s.insert(hi, lo, h, i, Segment.pack(server, stamp(now)), size);
            }
            if (log != null) {
                logged = touch(s, i, hi, lo);
            }
            s.sweep(now);
        }
        if (logged) {
            listener.updated();
        }
        return previous == 0 || previous == server ? null : servers.name(previous);
    }

    // ---- peers ----

    /** Whether the table numbers its local updates for peers. */
    public boolean synced() {
        return log != null;
    }

    /** Who is told of local updates (a synced table's peers). */
    public void listener(UpdateListener listener) {
        this.listener = listener == null ? UpdateListener.NONE : listener;
    }

    /**
     * Gives server {@code serverName} HAProxy's numeric id {@code id} ({@code server_id}): sent
     * with each entry, and the server of a learned entry that carries no name. A name keeps the
     * first id it is given.
     */
    public void registerServer(String serverName, int id) {
        servers.register(serverName, id);
    }

    /** The last local update's sequence number (0: none yet). */
    public long lastUpdate() {
        return updates.get();
    }

    /**
     * A peer was sent the updates up to {@code seq}: later renewals of those entries are numbered
     * again, so that they are sent again (HAProxy's {@code commitupdate}, the furthest of any peer).
     */
    public void committed(long seq) {
        synchronized (updates) {
            if (seq > committed) {
                committed = seq;
            }
        }
    }

    /**
     * Copies the entries of the updates after {@code after}, up to {@code max} of them and to the
     * last update, into {@code out}: each entry still in the table whose last update it is (an
     * entry updated again later is read at its later update; an expired or evicted one is gone).
     *
     * @return the last update read: every update up to it was handled (one whose writer has not
     *     finished stops the read before it); or {@link #LOST} when the log no longer holds the
     *     update after {@code after}, and the peer must be taught the whole table
     */
    public long readUpdates(long after, EntryBatch out, int max) {
        long last = updates.get();
        long[] key = new long[2];
        long seq = after;
        long now = clock.getAsLong();
        while (seq < last && seq - after < max) {
            long next = seq + 1;
            if ((int) next == 0) {
                // Never used: 0 marks a slot without a local update.
                seq = next;
                continue;
            }
            int found = log.read(next, last, key);
            if (found == UpdateLog.LOST) {
                return LOST;
            }
            if (found == UpdateLog.NOT_YET) {
                break;
            }
            long h = hash(key[0], key[1]);
            Segment s = segment(h);
            synchronized (s) {
                int i = s.find(key[0], key[1], h);
                if (i >= 0 && s.upd[i] == (int) next && !s.expired(i, now)) {
                    out.add(key[0], key[1], Segment.serverOf(s.meta[i]), remaining(Segment.stampOf(s.meta[i]), now), next);
                }
            }
            seq = next;
        }
        return seq;
    }

    /**
     * Copies a step of the whole table, at least {@code max} live entries when that many are left,
     * into {@code out}, from {@code cursor} (0 at first). Entries that live through the walk are
     * copied at least once (see {@link Segment#walk}).
     *
     * @return the cursor of the next step, or {@link #WALK_DONE}
     */
    public long walk(long cursor, EntryBatch out, int max) {
        int segment = (int) (cursor >>> 32);
        int slot = (int) cursor;
        long now = clock.getAsLong();
        Segment s = segments[segment];
        int next;
        synchronized (s) {
            next = s.walk(slot, now, out, max);
        }
        if (next < s.capacity) {
            return ((long) segment << 32) | next;
        }
        return segment + 1 < segments.length ? (long) (segment + 1) << 32 : WALK_DONE;
    }

    /** A batch for {@link #readUpdates} and {@link #walk}, for one thread. */
    public EntryBatch newBatch(int capacity) {
        return new EntryBatch(this, capacity);
    }

    /**
     * An entry a peer sent: {@code server} (its name, else HAProxy's id {@code serverId}) for the
     * 128-bit key, living {@code expireMillis} more (null: this table's {@code expire}; never more
     * than it). Learned entries are not numbered: they are not sent on to other peers.
     *
     * @return false when the server is not one of this table's or the entry has expired already
     */
    public boolean learn(long k1, long k2, String server, Integer serverId, Integer expire) {
        int index = server == null ? 0 : servers.known(server);
        if (index == 0 && serverId != null) {
            index = servers.ofId(serverId);
        }
        if (index == 0) {
            return false;
        }
        long life = expire == null || expireMillis == 0 ? expireMillis : Math.min(expire, expireMillis);
        if (expireMillis > 0 && life <= 0) {
            return false;
        }
        long h = hash(k1, k2);
        Segment s = segment(h);
        long now = clock.getAsLong();
        long meta = Segment.pack(index, expireMillis == 0 ? now : now + life);
        synchronized (s) {
            int i = s.find(k1, k2, h);
            if (i >= 0) {
                s.meta[i] = meta;
            } else {
                s.insert(k1, k2, h, i, meta, size);
            }
            s.sweep(now);
        }
        return true;
    }

    String serverName(int index) {
        return servers.name(index);
    }

    int serverId(int index) {
        return servers.id(index);
    }

    /**
     * Gives the entry in slot {@code i} of {@code s} (locked) the next update number and logs it,
     * unless its update is still waiting to be sent to every peer. Returns whether it logged.
     */
    private boolean touch(Segment s, int i, long k1, long k2) {
        int u = s.upd[i];
        if (u != 0) {
            long last = updates.get();
            // HAProxy's test: not sent to any peer yet (after commitupdate), and still in the log.
            if ((int) (u - (int) committed) > 0 && (int) ((int) last - u) >= 0 && (int) last - u < log.capacity()) {
                return false;
            }
        }
        long seq = updates.incrementAndGet();
        if ((int) seq == 0) {
            seq = updates.incrementAndGet();
        }
        s.upd[i] = (int) seq;
        log.append(seq, k1, k2);
        return true;
    }

    /** The stamp of an entry used now: its expiry, or now in a table without expire. */
    private long stamp(long now) {
        return expireMillis == 0 ? now : now + expireMillis;
    }

    private long remaining(long stamp, long now) {
        return expireMillis == 0 ? -1 : Math.max(0, stamp - now);
    }

    private Segment segment(long h) {
        return segments[(int) (h >>> 58) & segmentMask];
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

    /** The 128-bit key of a 16-byte address as a peer sends it: {@code [hi, lo]}. */
    public static long[] key(byte[] address16) {
        if (address16.length != 16) {
            throw new IllegalArgumentException("a key of " + address16.length + " bytes, not 16");
        }
        return new long[] {longAt(address16, 0), longAt(address16, 8)};
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
}
