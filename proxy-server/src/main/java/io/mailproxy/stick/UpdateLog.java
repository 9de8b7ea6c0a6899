package io.mailproxy.stick;

import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The keys of a synced table's last local updates, by update sequence number, so that each peer
 * can be sent what changed since it last acknowledged (HAProxy keeps its entries in a tree by
 * update id for the same purpose). A ring of {@link #capacity()} records, written by the event
 * loops that update the table and read by the peers' event loop; a peer that falls further behind
 * than the ring holds is taught the whole table instead.
 *
 * <p>Each record is the key and its sequence number, written as a seqlock: the writer marks the
 * record as being written (-1), writes the key, then the number; a reader reads the number, the key,
 * and the number again, and keeps the key only if both readings are the one it wants.
 */
final class UpdateLog {

    /** {@link #read} found the record. */
    static final int FOUND = 0;
    /** The record's writer has not finished yet: read it again later. */
    static final int NOT_YET = 1;
    /** The record was overwritten by one {@link #capacity()} updates later. */
    static final int LOST = 2;

    private static final int MIN_CAPACITY = 1 << 10;
    private static final int MAX_CAPACITY = 1 << 22;

    private final long[] hi;
    private final long[] lo;
    private final AtomicLongArray seqs;
    private final int mask;

    /** A ring for a table of {@code size} entries: half of them, as a power of two, within 1k..4m. */
    UpdateLog(int size) {
        int n = Math.max(MIN_CAPACITY, Math.min(MAX_CAPACITY, Integer.highestOneBit(Math.max(1, size / 2))));
        hi = new long[n];
        lo = new long[n];
        seqs = new AtomicLongArray(n);
        mask = n - 1;
    }

    int capacity() {
        return mask + 1;
    }

    void append(long seq, long k1, long k2) {
        int i = (int) seq & mask;
        seqs.set(i, -1);
        VarHandle.storeStoreFence();
        hi[i] = k1;
        lo[i] = k2;
        seqs.set(i, seq);
    }

    /**
     * The key of update {@code seq} into {@code key[0..1]}.
     *
     * @param last the table's last sequence number, read before
     * @return {@link #FOUND}, {@link #NOT_YET} or {@link #LOST}
     */
    int read(long seq, long last, long[] key) {
        int i = (int) seq & mask;
        long before = seqs.get(i);
        if (before == seq) {
            long k1 = hi[i];
            long k2 = lo[i];
            VarHandle.loadLoadFence();
            if (seqs.get(i) == seq) {
                key[0] = k1;
                key[1] = k2;
                return FOUND;
            }
            return LOST;
        }
        if (before > seq || last - seq >= capacity()) {
            return LOST;
        }
        return NOT_YET;
    }
}
