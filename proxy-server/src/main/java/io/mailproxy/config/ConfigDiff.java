package io.mailproxy.config;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * What changed between two configurations, in words: the one summary line a reload logs, e.g.
 * {@code backend imap-pool changed: retries; server imap-pool/dc3 added; frontend lmtp removed}.
 *
 * <p>Settings are records compared by value (where a value was written is not part of it, see
 * {@link BindAddress}), so two loads of one file give no change. Frontends, backends and stick
 * tables are matched by name, servers by name within their backend (HAProxy's
 * {@code backend/server}); a changed one is listed with the keys that differ, spelled as the
 * records' components in the configuration's style ({@code connect-timeout}), those of a section
 * within it prefixed ({@code health-check.interval}).
 */
public final class ConfigDiff {

    /** Records that are a section of the record holding them: their keys are listed, not their name alone. */
    private static final Set<Class<?>> SECTIONS = Set.of(TlsSettings.class, AcceptProxySettings.class,
            HealthCheckSettings.class, LogSettings.class, StatsSettings.class, AdminSocketSettings.class,
            StartTlsSettings.class, BackendTlsSettings.class);

    private final List<String> changes;

    private ConfigDiff(List<String> changes) {
        this.changes = List.copyOf(changes);
    }

    /** What {@code after} changes of {@code before}. */
    public static ConfigDiff between(ProxySettings before, ProxySettings after) {
        List<String> changes = new ArrayList<>();
        // where the file is is not a setting: a reload may read it from another path
        changed("global", keys(before, after, Set.of("frontends", "backends", "stickTables", "source")), changes);
        entries("frontend", before.frontends(), after.frontends(), (a, b) -> keys(a, b, Set.of()), changes);
        entries("backend", before.backends(), after.backends(), ConfigDiff::backendKeys, changes);
        for (Map.Entry<String, BackendSettings> e : after.backends().entrySet()) {
            BackendSettings old = before.backends().get(e.getKey());
            if (old != null) {
                servers(e.getKey(), old.servers(), e.getValue().servers(), changes);
            }
        }
        entries("stick-table", before.stickTables(), after.stickTables(), (a, b) -> keys(a, b, Set.of()), changes);
        return new ConfigDiff(changes);
    }

    /** Each change, e.g. {@code server imap-pool/dc2 changed: weight}; empty when nothing changed. */
    public List<String> changes() {
        return changes;
    }

    public boolean isEmpty() {
        return changes.isEmpty();
    }

    /** The changes in one line, separated by "; ", or {@code no change}. */
    @Override
    public String toString() {
        return changes.isEmpty() ? "no change" : String.join("; ", changes);
    }

    private static <T extends Record> void entries(String kind, Map<String, T> before, Map<String, T> after,
                                                   BiFunction<T, T, List<String>> keys, List<String> changes) {
        for (Map.Entry<String, T> e : after.entrySet()) {
            T old = before.get(e.getKey());
            if (old == null) {
                changes.add(kind + " " + e.getKey() + " added");
            } else {
                changed(kind + " " + e.getKey(), keys.apply(old, e.getValue()), changes);
            }
        }
        for (String name : before.keySet()) {
            if (!after.containsKey(name)) {
                changes.add(kind + " " + name + " removed");
            }
        }
    }

    private static void servers(String backend, List<ServerSettings> before, List<ServerSettings> after,
                                List<String> changes) {
        entries("server", byName(backend + "/", before), byName(backend + "/", after), (a, b) -> keys(a, b, Set.of()),
                changes);
    }

    private static Map<String, ServerSettings> byName(String prefix, List<ServerSettings> servers) {
        Map<String, ServerSettings> out = new LinkedHashMap<>();
        servers.forEach(s -> out.put(prefix + s.name(), s));
        return out;
    }

    /**
     * A backend's keys that differ, its servers aside (they are listed one by one, and here only
     * their order). A shared stick table it names is listed under {@code stick-table}, not under
     * each backend that names it.
     */
    private static List<String> backendKeys(BackendSettings a, BackendSettings b) {
        List<String> out = keys(a, b, Set.of("servers", "stickTable"));
        StickTableSettings x = a.stickTable();
        StickTableSettings y = b.stickTable();
        boolean bothOwn = x != null && y != null && !x.shared() && !y.shared();
        boolean sameShared = x != null && y != null && x.shared() && y.shared() && x.name().equals(y.name());
        if (bothOwn) {
            keys(x, y, Set.of()).forEach(k -> out.add("stick-table." + k));
        } else if (!sameShared && !Objects.equals(x, y)) {
            out.add("stick-table");
        }
        Set<String> before = byName("", a.servers()).keySet();
        Set<String> after = byName("", b.servers()).keySet();
        if (!before.stream().filter(after::contains).toList().equals(after.stream().filter(before::contains).toList())) {
            // The order of `servers` matters to `balance = first` and to which backup is first.
            out.add("order of servers");
        }
        return out;
    }

    /** The components of two records of one type that differ, in the configuration's spelling. */
    private static List<String> keys(Record a, Record b, Set<String> skip) {
        List<String> out = new ArrayList<>();
        for (RecordComponent c : a.getClass().getRecordComponents()) {
            Object x = value(c, a);
            Object y = value(c, b);
            if (skip.contains(c.getName()) || Objects.equals(x, y)) {
                continue;
            }
            String key = configName(c.getName());
            if (x != null && y != null && SECTIONS.contains(x.getClass())) {
                keys((Record) x, (Record) y, Set.of()).forEach(k -> out.add(key + "." + k));
            } else {
                out.add(key);
            }
        }
        return out;
    }

    private static void changed(String what, List<String> keys, List<String> changes) {
        if (!keys.isEmpty()) {
            changes.add(what + " changed: " + String.join(", ", new LinkedHashSet<>(keys)));
        }
    }

    private static Object value(RecordComponent c, Record r) {
        try {
            return c.getAccessor().invoke(r);
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("cannot read " + c.getName() + " of " + r.getClass().getSimpleName(), e);
        }
    }

    /** {@code connectTimeout} as {@code connect-timeout}. */
    private static String configName(String component) {
        return component.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase();
    }
}
