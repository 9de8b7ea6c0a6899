package io.mailproxy.stick;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A table's server names, each with the small index a slot stores (1-based; 0 is an empty slot)
 * and the numeric id HAProxy knows it by ({@code server_id}, a server's {@code puid}: its position
 * in its backend, from 1, unless HAProxy's config forces one).
 *
 * <p>Copy-on-write: lookups on the event loops take no lock; a name is added once, under this
 * object's monitor, and published before its index so that whoever sees the index finds the name.
 */
final class ServerNames {

    /** The slot's server field is 16 bits, 0 meaning an empty slot. */
    static final int MAX_NAMES = 0xFFFF;

    private final Map<String, Integer> indexes = new ConcurrentHashMap<>();
    private volatile String[] names = new String[0];
    private volatile int[] ids = new int[0];

    /** The index of {@code name}, added on first use; 0 when the dictionary is full. */
    int index(String name) {
        Integer known = indexes.get(name);
        return known != null ? known : add(name, 0);
    }

    /** The index of {@code name} if it is known, else 0 (nothing is added). */
    int known(String name) {
        Integer known = indexes.get(name);
        return known == null ? 0 : known;
    }

    /** The index of the first name with HAProxy id {@code id}, else 0. */
    int ofId(int id) {
        int[] all = ids;
        for (int i = 0; i < all.length; i++) {
            if (all[i] == id && id != 0) {
                return i + 1;
            }
        }
        return 0;
    }

    String name(int index) {
        return names[index - 1];
    }

    /** HAProxy's id for the server of {@code index}, 0 when none was registered. */
    int id(int index) {
        int[] all = ids;
        return index - 1 < all.length ? all[index - 1] : 0;
    }

    /**
     * Registers {@code name} with HAProxy id {@code id}; a name keeps the first id it was given
     * (a table shared by backends that list their servers in other orders).
     */
    synchronized void register(String name, int id) {
        int index = index(name);
        if (index == 0) {
            return;
        }
        int[] all = ids;
        if (all[index - 1] == 0) {
            int[] grown = all.clone();
            grown[index - 1] = id;
            ids = grown;
        }
    }

    private synchronized int add(String name, int id) {
        Integer known = indexes.get(name);
        if (known != null) {
            return known;
        }
        String[] all = names;
        if (all.length >= MAX_NAMES) {
            // Names come from the configuration's servers, so this needs 65,535 of them.
            return 0;
        }
        String[] grown = Arrays.copyOf(all, all.length + 1);
        grown[all.length] = name;
        int[] grownIds = Arrays.copyOf(ids, all.length + 1);
        grownIds[all.length] = id;
        ids = grownIds;
        names = grown;
        indexes.put(name, grown.length);
        return grown.length;
    }
}
