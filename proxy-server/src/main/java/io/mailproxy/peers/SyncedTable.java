package io.mailproxy.peers;

import io.mailproxy.peersprotocol.PeerMessage;
import io.mailproxy.stick.StickTable;

/**
 * A stick table as the peers know it: its name on the wire (the table's name), the id this node
 * gives it in its messages (from 1, in configuration order, as HAProxy numbers a section's tables),
 * and the definition announcing it: HAProxy's {@code type ipv6} (16-byte keys) with the data types
 * {@code server_id} and {@code server_key}, and the table's {@code expire}.
 */
record SyncedTable(StickTable table, int localId) {

    PeerMessage.TableDefinition definition() {
        return PeerMessage.TableDefinition.ipv6Servers(localId, table.name(), table.expireMillis());
    }

    String name() {
        return table.name();
    }

    /** Whether a peer's table definition is this table in a form whose updates it can take. */
    boolean matches(PeerMessage.TableDefinition d) {
        return d.name().equals(table.name()) && d.keyType() == PeerMessage.TableDefinition.KEY_IPV6
                && d.keyLength() == 16;
    }
}
