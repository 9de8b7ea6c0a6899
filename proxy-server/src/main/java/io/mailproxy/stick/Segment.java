package io.mailproxy.stick;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One lock's share of a {@link StickTable}: a linear-probing hash table over primitive arrays.
 * Every method is called with the segment's monitor held.
 *
 * <p>A slot is the 128-bit key in {@link #hi} and {@link #lo}, and {@link #meta}: the server
 * (an index into the table's {@link ServerNames}, 16 bits, 0 = empty slot) and a time stamp (48
 * bits, milliseconds since the table was made): when the entry expires in a table with
 * {@code expire}, when it was last used in one without. The oldest stamp is then the least
 * recently used entry either way (an entry a peer taught with a shorter remaining life counts
 * as older). A synced table also keeps {@link #upd}: the entry's last local update, the low 32
 * bits of its sequence number (0: never updated here, e.g. learned from a peer).
 */
final class Segment {

    static final int TIME_BITS = 48;
    static final long TIME_MASK = (1L << TIME_BITS) - 1;

    /** The most entries this segment holds, even while others have room. */
    final int maxEntries;
    final int capacity;
    final long[] hi;
    final long[] lo;
    final long[] meta;
    /** Null unless the table is synced with peers. */
    final int[] upd;
    int count;
    int sweepCursor;

    private final AtomicInteger tableEntries;
    private final boolean expires;

    Segment(int share, int maxEntries, boolean synced, boolean expires, AtomicInteger tableEntries) {
        this.maxEntries = maxEntries;
        // Load 2/3 at its share (4/5 at most), and always one empty slot so that every probe ends.
        this.capacity = share + share / 2 + 1;
        this.hi = new long[capacity];
        this.lo = new long[capacity];
        this.meta = new long[capacity];
        this.upd = synced ? new int[capacity] : null;
        this.expires = expires;
        this.tableEntries = tableEntries;
    }

    static long pack(int server, long stamp) {
        return ((long) server << TIME_BITS) | (stamp & TIME_MASK);
    }

    static int serverOf(long meta) {
        return (int) (meta >>> TIME_BITS);
    }

    static long stampOf(long meta) {
        return meta & TIME_MASK;
    }

    boolean expired(int i, long now) {
        return expires && now >= stampOf(meta[i]);
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
     * Adds a key that {@link #find} did not find (its result {@code missing}), evicting first when
     * the table or this segment is full. Returns the new entry's slot.
     */
    int insert(long k1, long k2, long h, int missing, long meta0, int tableSize) {
        int i = missing;
        // The new entry is counted first: whoever takes the table past its size evicts, so
        // concurrent stores in different segments cannot both slip in under the bound.
        if ((tableEntries.incrementAndGet() > tableSize || count >= maxEntries) && count > 0) {
            evictOne();
            i = find(k1, k2, h);
        }
        i = -1 - i;
        hi[i] = k1;
        lo[i] = k2;
        meta[i] = meta0;
        if (upd != null) {
            upd[i] = 0;
        }
        count++;
        return i;
    }

    /**
     * Empties slot {@code i} and shifts back the entries of its probe run that could not be
     * found across an empty slot (Knuth's algorithm R): no tombstones. Entries only ever move
     * back towards their home slot, which a walk of the table relies on.
     */
    void delete(int i) {
        int j = i;
        while (true) {
            j = j + 1 == capacity ? 0 : j + 1;
            if (meta[j] == 0) {
                break;
            }
            int home = home(StickTable.hash(hi[j], lo[j]));
            boolean stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
            if (!stays) {
                hi[i] = hi[j];
                lo[i] = lo[j];
                meta[i] = meta[j];
                if (upd != null) {
                    upd[i] = upd[j];
                }
                i = j;
            }
        }
        hi[i] = 0;
        lo[i] = 0;
        meta[i] = 0;
        if (upd != null) {
            upd[i] = 0;
        }
        count--;
        tableEntries.decrementAndGet();
    }

    /** Drops the oldest of all entries (small segments) or of a random sample. */
    void evictOne() {
        int victim = -1;
        long oldest = Long.MAX_VALUE;
        if (capacity <= StickTable.EXACT_SCAN_SLOTS) {
            for (int i = 0; i < capacity; i++) {
                if (meta[i] != 0 && stampOf(meta[i]) < oldest) {
                    oldest = stampOf(meta[i]);
                    victim = i;
                }
            }
        } else {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            // The segment is full, so two slots in three are taken: 8 samples take ~12 tries.
            for (int tries = 0, sampled = 0; sampled < StickTable.SAMPLES && tries < StickTable.SAMPLES * 8; tries++) {
                int i = random.nextInt(capacity);
                if (meta[i] != 0) {
                    sampled++;
                    if (stampOf(meta[i]) < oldest) {
                        oldest = stampOf(meta[i]);
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
        if (!expires) {
            return;
        }
        for (int n = 0; n < StickTable.SWEEP_SLOTS; n++) {
            int i = sweepCursor;
            if (meta[i] != 0 && expired(i, now)) {
                // A later entry may shift into slot i; the next round looks at it.
                delete(i);
            }
            sweepCursor = i + 1 == capacity ? 0 : i + 1;
        }
    }

    /**
     * Copies the live entries from slot {@code from} on into {@code out}: at least {@code max}
     * (unless the segment ends first) and then on to the next empty slot, so that the walk stops
     * between two probe runs. Returns the slot to go on from, {@link #capacity} at the end.
     *
     * <p>Why a walk in steps misses no entry that lives through it: a deletion moves entries only
     * back towards their home, within their run; a step ends at an empty slot, and an entry beyond
     * it has its home beyond it too, so it can never move back past where the walk has been.
     * Entries may move back across the segment's end into slots walked already: those are copied twice.
     */
    int walk(int from, long now, EntryBatch out, int max) {
        int i = from;
        int copied = 0;
        while (i < capacity && (copied < max || meta[i] != 0)) {
            if (meta[i] != 0 && !expired(i, now)) {
                out.add(hi[i], lo[i], serverOf(meta[i]), expires ? stampOf(meta[i]) - now : -1, 0);
                copied++;
            }
            i++;
        }
        return i;
    }
}
