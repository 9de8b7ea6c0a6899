package io.mailproxy.stats.report;

import io.mailproxy.backend.Backend;
import io.mailproxy.backend.Server;
import java.util.Collections;
import java.util.Map;

/**
 * One line of the statistics: a frontend, a server or a backend's totals, its fields by their CSV
 * names (those not set are empty).
 *
 * @param backend the backend of a server or backend row, else null
 * @param server  the server of a server row, else null
 */
public record StatRow(Kind kind, String pxname, String svname, Map<String, String> values, Backend backend,
                      Server server) {

    /** HAProxy's {@code type} field: 0 frontend, 1 backend, 2 server. */
    public enum Kind { FRONTEND, BACKEND, SERVER }

    public StatRow {
        values = Collections.unmodifiableMap(values);
    }

    /** A field's value, or the empty string. */
    public String get(String field) {
        return values.getOrDefault(field, "");
    }

    /** A numeric field, 0 when empty. */
    public long number(String field) {
        String v = get(field);
        return v.isEmpty() ? 0 : Long.parseLong(v);
    }
}
