package io.mailproxy.stick;

import java.util.Arrays;

/**
 * Entries copied out of a {@link StickTable}, for a peer to send: the key, the server (name and
 * HAProxy id), the remaining life and, for an update, its sequence number. Reused from batch to
 * batch by one thread (a peer session's event loop); it grows when a walk step copies more than
 * it was made for.
 */
public final class EntryBatch {

    private final StickTable table;
    private long[] hi;
    private long[] lo;
    private int[] server;
    private long[] remaining;
    private long[] seq;
    private int size;

    EntryBatch(StickTable table, int capacity) {
        this.table = table;
        int n = Math.max(1, capacity);
        hi = new long[n];
        lo = new long[n];
        server = new int[n];
        remaining = new long[n];
        seq = new long[n];
    }

    public int size() {
        return size;
    }

    public void clear() {
        size = 0;
    }

    /** The key as HAProxy's {@code type ipv6} sends it: 16 bytes, IPv4 as {@code ::ffff:a.b.c.d}. */
    public byte[] key(int i) {
        byte[] key = new byte[16];
        for (int b = 0; b < 8; b++) {
            key[b] = (byte) (hi[i] >>> (56 - 8 * b));
            key[8 + b] = (byte) (lo[i] >>> (56 - 8 * b));
        }
        return key;
    }

    public String server(int i) {
        return table.serverName(server[i]);
    }

    /** HAProxy's {@code server_id} for the entry's server (0 when none is known). */
    public int serverId(int i) {
        return table.serverId(server[i]);
    }

    /** Milliseconds the entry has left, or -1 in a table whose entries do not expire. */
    public long remainingMillis(int i) {
        return remaining[i];
    }

    /** The update sequence number the entry was read for; 0 for a walk of the whole table. */
    public long update(int i) {
        return seq[i];
    }

    void add(long k1, long k2, int serverIndex, long remainingMillis, long update) {
        if (size == hi.length) {
            int n = size * 2;
            hi = Arrays.copyOf(hi, n);
            lo = Arrays.copyOf(lo, n);
            server = Arrays.copyOf(server, n);
            remaining = Arrays.copyOf(remaining, n);
            seq = Arrays.copyOf(seq, n);
        }
        hi[size] = k1;
        lo[size] = k2;
        server[size] = serverIndex;
        remaining[size] = remainingMillis;
        seq[size] = update;
        size++;
    }
}
