package io.mailproxy.peers;

/**
 * Where one table stands with one peer (HAProxy's {@code struct shared_table}): owned by the peers'
 * event loop. The positions of this node's updates are 64-bit sequence numbers of the table; those
 * of the peer's are the 32-bit ids it sends.
 */
final class TableCursor {

    final SyncedTable table;

    /** The last update sent to the peer ({@code last_pushed}). */
    long lastPushed;
    /** The last update the peer acknowledged ({@code update}): where a new connection starts again. */
    long acked;
    /**
     * The last update when the whole table began to be sent ({@code teaching_origin}): once the
     * peer confirms, everything up to it was sent.
     */
    long teachOrigin;
    /** While the whole table is being sent: the walk's cursor; {@code StickTable.WALK_DONE} once sent. */
    long walk;
    /** Whether this connection has announced the table to the peer. */
    boolean announced;
    /** The 32-bit id of the last update sent on this connection, for incremental ids. */
    long lastWireId = -1;

    /** The peer's id of this table ({@code remote_id}), -1 until it defined it on this connection. */
    int remoteId = -1;
    /** The last update id received from the peer ({@code last_get}) and the last acknowledged ({@code last_acked}). */
    long lastGet;
    long lastAcked;

    /** Entries read from the table for this peer, reused. */
    io.mailproxy.stick.EntryBatch batch;

    TableCursor(SyncedTable table) {
        this.table = table;
    }

    /** A new connection: start again from the peer's acknowledgement; the peer's side starts afresh. */
    void connected() {
        lastPushed = acked;
        teachOrigin = acked;
        walk = 0;
        announced = false;
        lastWireId = -1;
        remoteId = -1;
        lastGet = 0;
        lastAcked = 0;
    }

    /**
     * The peer's acknowledgement, 32 bits, as the sequence number it stands for: the one at or
     * before the last sent whose low 32 bits it is.
     */
    void acknowledged(long id) {
        long back = ((int) lastPushed - (int) id) & 0xFFFF_FFFFL;
        acked = Math.max(0, lastPushed - back);
    }
}
