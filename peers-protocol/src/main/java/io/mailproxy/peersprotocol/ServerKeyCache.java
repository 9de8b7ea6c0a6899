package io.mailproxy.peersprotocol;

import java.util.HashMap;
import java.util.Map;

/**
 * The server keys one direction of a connection has sent ({@code dcache_tx} in HAProxy's
 * {@code src/peers.c}): the first update naming a server sends its name with a cache id, later
 * ones only the id. {@value PeerConstants#DICTIONARY_ENTRIES} ids, reused round robin, as HAProxy
 * reuses them. One per connection, used on its event loop only.
 */
public final class ServerKeyCache {

    private final String[] names = new String[PeerConstants.DICTIONARY_ENTRIES];
    private final Map<String, Integer> ids = new HashMap<>();
    private int next;

    /** The cache id of {@code name} (0-based) if it was sent on this connection, else -1. */
    int idOf(String name) {
        Integer id = ids.get(name);
        return id == null ? -1 : id;
    }

    /** Gives {@code name} the next id, forgetting the name that had it. */
    int add(String name) {
        int id = next;
        if (names[id] != null) {
            ids.remove(names[id]);
        }
        names[id] = name;
        ids.put(name, id);
        next = (next + 1) % names.length;
        return id;
    }
}
