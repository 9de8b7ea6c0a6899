package io.mailproxy.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The shape of a configuration, taken from {@code reference.conf} alone: a key exists by having a
 * default there, the default shows the key's shape (an object with exactly its keys, a list, or a
 * single value), and the {@code mailproxy-schema} section declares the rest (objects whose keys the
 * user names, lists of objects, keys that also take null or an object). See the top and the end
 * of {@code reference.conf}.
 *
 * <p>{@link #check} walks a file against it before any value is read and reports every unknown key
 * and every value of the wrong shape; {@link ConfigReader} then asks it which defaults each object is
 * read over, and trusts that shapes are right (so a bad shape is reported once, here).
 *
 * <p>Paths here ("schema paths") are reference.conf's, relative to {@code mailproxy}, e.g.
 * {@code defaults.backend.servers}; a user's {@code mailproxy.backends.pool.servers.0.weight} is
 * checked against {@code defaults.server.weight}.
 */
final class Schema {

    static final String ROOT = "mailproxy";
    private static final String SECTION = "mailproxy-schema";
    private static final Set<String> FIELDS = Set.of("entries", "elements", "object", "nullable", "value");

    /** reference.conf's {@code mailproxy} object: every key with its default. */
    private final ConfigObject defaults;
    private final Map<String, Declaration> declarations;

    /** One entry of {@code mailproxy-schema}; null fields are not declared. */
    private record Declaration(String entries, String elements, String object, boolean nullable, String value) {
        static final Declaration NONE = new Declaration(null, null, null, false, null);
    }

    private Schema(ConfigObject defaults, Map<String, Declaration> declarations) {
        this.defaults = defaults;
        this.declarations = Map.copyOf(declarations);
    }

    /**
     * The schema of a reference configuration (the jar's {@code reference.conf}, or a test's).
     *
     * @throws IllegalStateException when the reference contradicts itself (a declaration of a key it
     *     does not have, an {@code elements} on a key that is not a list...): a bug in the jar
     */
    static Schema of(Config reference) {
        ConfigObject defaults = reference.getObject(ROOT);
        Map<String, Declaration> declarations = new HashMap<>();
        ConfigObject section = reference.hasPath(SECTION) ? reference.getObject(SECTION) : null;
        if (section != null) {
            for (Map.Entry<String, ConfigValue> e : section.entrySet()) {
                Config c = ((ConfigObject) e.getValue()).toConfig();
                if (!FIELDS.containsAll(c.root().keySet())) {
                    throw new IllegalStateException(SECTION + "." + e.getKey() + ": only " + FIELDS + " are declared");
                }
                declarations.put(e.getKey(), new Declaration(optional(c, "entries"), optional(c, "elements"),
                        optional(c, "object"), c.hasPath("nullable") && c.getBoolean("nullable"), optional(c, "value")));
            }
        }
        Schema schema = new Schema(defaults, declarations);
        declarations.forEach(schema::verify);
        return schema;
    }

    private static String optional(Config c, String key) {
        return c.hasPath(key) ? c.getString(key) : null;
    }

    private void verify(String path, Declaration d) {
        ConfigValue value = defaultAt(path);
        if (value == null) {
            throw new IllegalStateException(SECTION + " declares \"" + path + "\", which reference.conf does not have");
        }
        if (d.entries() != null && (value.valueType() != ConfigValueType.OBJECT || !isObject(d.entries()))) {
            throw new IllegalStateException(SECTION + ": \"" + path + "\" and its entries must be objects");
        }
        if (d.elements() != null && (value.valueType() != ConfigValueType.LIST || !isObject(d.elements()))) {
            throw new IllegalStateException(SECTION + ": \"" + path + "\" must be a list and its elements objects");
        }
        if (d.object() != null && !isObject(d.object())) {
            throw new IllegalStateException(SECTION + ": the object of \"" + path + "\" must be an object");
        }
    }

    private boolean isObject(String path) {
        ConfigValue v = defaultAt(path);
        return v != null && v.valueType() == ConfigValueType.OBJECT;
    }

    /** reference.conf's value at a schema path ("" for {@code mailproxy}), or null when it has none. */
    ConfigValue defaultAt(String schemaPath) {
        return lookup(defaults, schemaPath);
    }

    /** Whether the key may be null: its default is, or the schema says so. */
    boolean nullable(String schemaPath) {
        ConfigValue value = defaultAt(schemaPath);
        return (value != null && value.valueType() == ConfigValueType.NULL) || declaration(schemaPath).nullable();
    }

    /** The schema path of the object each entry is read over, or null when the key has no named entries. */
    String entries(String schemaPath) {
        return declaration(schemaPath).entries();
    }

    /** The schema path of the object each list element is read over, or null when the key is no list of objects. */
    String elements(String schemaPath) {
        return declaration(schemaPath).elements();
    }

    /**
     * The schema path an object written at this key is read over: the key's own when its default is
     * an object, the declared {@code object} otherwise, or null when the key takes no object.
     */
    String objectOver(String schemaPath) {
        ConfigValue value = defaultAt(schemaPath);
        if (value != null && value.valueType() == ConfigValueType.OBJECT && entries(schemaPath) == null) {
            return schemaPath;
        }
        return declaration(schemaPath).object();
    }

    private Declaration declaration(String schemaPath) {
        return declarations.getOrDefault(schemaPath, Declaration.NONE);
    }

    /** Reports every unknown key and every value of a shape its key does not take, in file order. */
    void check(ConfigObject userRoot, Problems problems) {
        for (String key : inFileOrder(userRoot)) {
            ConfigValue v = userRoot.get(key);
            if (key.equals(ROOT)) {
                value(v, "", ROOT, problems);
            } else {
                problems.add(v.origin(), key, "unknown key (the configuration lives under \"mailproxy\")");
            }
        }
    }

    private void value(ConfigValue v, String schemaPath, String path, Problems problems) {
        Declaration d = declaration(schemaPath);
        switch (v.valueType()) {
            case NULL -> {
                if (nullable(schemaPath)) {
                    return;
                }
            }
            case OBJECT -> {
                if (d.entries() != null) {
                    entries((ConfigObject) v, d.entries(), path, problems);
                    return;
                }
                String over = objectOver(schemaPath);
                if (over != null) {
                    object((ConfigObject) v, over, path, problems);
                    return;
                }
            }
            case LIST -> {
                if (defaultAt(schemaPath).valueType() == ConfigValueType.LIST) {
                    if (d.elements() != null) {
                        elements((List<?>) v, d.elements(), path, problems);
                    }
                    return;
                }
            }
            default -> {
                if (takesSingleValue(schemaPath)) {
                    return;
                }
            }
        }
        problems.add(v.origin(), path, expected(schemaPath) + ", found " + found(v));
    }

    private void entries(ConfigObject map, String over, String path, Problems problems) {
        for (String name : inFileOrder(map)) {
            ConfigValue entry = map.get(name);
            objectOrProblem(entry, over, child(path, name), problems);
        }
    }

    private void elements(List<?> list, String over, String path, Problems problems) {
        for (int i = 0; i < list.size(); i++) {
            objectOrProblem((ConfigValue) list.get(i), over, path + "." + i, problems);
        }
    }

    private void objectOrProblem(ConfigValue v, String over, String path, Problems problems) {
        if (v.valueType() == ConfigValueType.OBJECT) {
            object((ConfigObject) v, over, path, problems);
        } else {
            problems.add(v.origin(), path, "expected an object with the keys of " + qualified(over) + ", found " + found(v));
        }
    }

    private void object(ConfigObject value, String over, String path, Problems problems) {
        ConfigObject keys = (ConfigObject) defaultAt(over);
        for (String key : inFileOrder(value)) {
            ConfigValue v = value.get(key);
            if (keys.containsKey(key)) {
                value(v, join(over, key), child(path, key), problems);
            } else {
                problems.add(v.origin(), child(path, key), "unknown key" + suggestion(key, keys.keySet()));
            }
        }
    }

    private boolean takesSingleValue(String schemaPath) {
        ConfigValueType type = defaultAt(schemaPath).valueType();
        return type != ConfigValueType.OBJECT && type != ConfigValueType.LIST;
    }

    /** What the key takes, in words: "expected null or an object with the keys of ...". */
    private String expected(String schemaPath) {
        Declaration d = declaration(schemaPath);
        ConfigValue value = defaultAt(schemaPath);
        List<String> shapes = new ArrayList<>();
        if (nullable(schemaPath)) {
            shapes.add("null");
        }
        if (d.entries() != null) {
            shapes.add("an object of named entries, each with the keys of " + qualified(d.entries()));
        } else if (value.valueType() == ConfigValueType.OBJECT) {
            shapes.add("an object with the keys of " + qualified(schemaPath));
        } else if (value.valueType() == ConfigValueType.LIST) {
            shapes.add(d.elements() != null ? "a list of objects with the keys of " + qualified(d.elements())
                    : "a list like [\"a\", \"b\"]");
        } else if (d.value() != null) {
            shapes.add(d.value());
        } else {
            boolean shown = value.valueType() != ConfigValueType.NULL && !"".equals(value.unwrapped());
            shapes.add("a single value" + (shown ? " like " + value.render(ConfigRenderOptions.concise()) : ""));
        }
        if (d.object() != null) {
            shapes.add("an object with the keys of " + qualified(d.object()));
        }
        return "expected " + (shapes.size() == 1 ? shapes.get(0) : shapes.size() == 2
                ? shapes.get(0) + " or " + shapes.get(1)
                : String.join(", ", shapes.subList(0, shapes.size() - 1)) + ", or " + shapes.get(shapes.size() - 1));
    }

    private static String found(ConfigValue v) {
        return switch (v.valueType()) {
            case NULL -> "null";
            case LIST -> "a list";
            case OBJECT -> "an object";
            default -> v.render(ConfigRenderOptions.concise());
        };
    }

    private static String qualified(String schemaPath) {
        return schemaPath.isEmpty() ? ROOT : ROOT + "." + schemaPath;
    }

    /** A schema path one key further down. */
    static String join(String schemaPath, String key) {
        return schemaPath.isEmpty() ? key : schemaPath + "." + key;
    }

    /** A user's path one key further down, the key quoted when it needs to be ({@code frontends."a.b"}). */
    static String child(String path, String key) {
        return path + "." + ConfigUtil.quoteString(key).replaceAll("^\"([A-Za-z0-9_-]+)\"$", "$1");
    }

    /** The value at a path of dotted keys ("" for the object itself), a ConfigNull for null, or null when absent. */
    static ConfigValue lookup(ConfigObject object, String path) {
        if (path.isEmpty()) {
            return object;
        }
        ConfigValue v = object;
        for (String key : ConfigUtil.splitPath(path)) {
            if (!(v instanceof ConfigObject o)) {
                return null;
            }
            v = o.get(key);
        }
        return v;
    }

    /**
     * An object's keys in the order they were written: HOCON objects do not keep it, and listeners
     * should bind, and problems be listed, in the order the user reads them.
     */
    static List<String> inFileOrder(ConfigObject object) {
        return object.keySet().stream()
                .sorted(Comparator.<String>comparingInt(k -> object.get(k).origin().lineNumber())
                        .thenComparing(Comparator.naturalOrder()))
                .toList();
    }

    private static String suggestion(String key, Set<String> known) {
        String best = null;
        int bestDistance = 3;
        for (String k : known) {
            int d = distance(key, k);
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        return best == null ? "" : " (did you mean \"" + best + "\"?)";
    }

    /** Levenshtein distance: a typo is one or two edits away from the key meant. */
    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
