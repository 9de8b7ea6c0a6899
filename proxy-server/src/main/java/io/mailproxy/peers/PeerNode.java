package io.mailproxy.peers;

import io.mailproxy.config.PeersSettings;
import io.mailproxy.peersprotocol.StatusCode;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Another node as this one sees it (HAProxy's {@code struct peer}): its connection, where each
 * table stands with it, and what happened so far. Owned by the peers' event loop.
 */
final class PeerNode {

    final PeersSettings.Node settings;
    final InetSocketAddress address;
    final List<TableCursor> cursors = new ArrayList<>();

    /** The connection that is this peer's, handshaking or established; null when none. */
    PeerSession session;
    /** Whether an outbound connection is being made (its session is {@link #session} once open). */
    boolean connecting;
    StatusCode lastStatus = StatusCode.NONE;
    /** When the last handshake ended (nanoTime), 0: never. */
    long lastHandshake;
    /** When this node may connect to the peer again (nanoTime). */
    long reconnectAt;

    /** This node asked the peer for the whole tables ({@code PEER_F_LEARN_ASSIGN}). */
    boolean learnAssigned;
    /** The peer answered a resync with PARTIAL: it is not asked again ({@code PEER_F_LEARN_NOTUP2DATE}). */
    boolean notUpToDate;

    // Counters, as HAProxy's show peers has them, and the figures for statistics.
    long newConnections;
    long protocolErrors;
    long collisions;
    long heartbeatsSent;
    long heartbeatsReceived;
    long heartbeatTimeouts;
    long updatesSent;
    long updatesAcknowledged;
    long updatesReceived;
    long updatesIgnored;
    long resyncsTaught;
    long resyncsLearned;
    /** When the last update came from the peer (nanoTime), 0: never. */
    long lastUpdateReceived;

    PeerNode(PeersSettings.Node settings, List<SyncedTable> tables) {
        this.settings = settings;
        this.address = settings.address().resolve();
        for (SyncedTable t : tables) {
            cursors.add(new TableCursor(t));
        }
    }

    String name() {
        return settings.name();
    }

    boolean established() {
        return session != null && session.established();
    }

    TableCursor byLocalId(int id) {
        for (TableCursor c : cursors) {
            if (c.table.localId() == id) {
                return c;
            }
        }
        return null;
    }

    TableCursor byRemoteId(int id) {
        for (TableCursor c : cursors) {
            if (c.remoteId == id) {
                return c;
            }
        }
        return null;
    }
}
