package io.mailproxy.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * One object of a configuration, as a settings record reads itself from it: the keys the file
 * wrote for this object over the defaults {@code reference.conf} gives it (which object that is,
 * {@link Schema} says). A record's {@code read(ConfigReader)} makes one typed call per key, in the
 * order the user should read the problems, and builds itself from the results:
 *
 * <pre>{@code
 * static ServerSettings read(ConfigReader r) {
 *     return new ServerSettings(r.string("name"), ..., r.intIn("weight", 0, MAX_WEIGHT), r.bool("backup"), ...);
 * }
 * }</pre>
 *
 * <p>A value that does not read is a problem at its file and line ({@code FILE:LINE: path: message});
 * the call then returns reference.conf's default for the key, so that checks between keys do not
 * add follow-on errors, and the record is not built: {@link #object}, {@link #list} and {@link #map}
 * return null (or leave the entry out) for a record during whose reading anything failed. An
 * {@link IllegalArgumentException} from a record's compact constructor becomes a problem at the
 * record's object. Values of the wrong shape (a list where one value goes) were reported by
 * {@link Schema#check} already and fail here without a second report.
 *
 * <p>Whether a key may be null is reference.conf's to say: the {@code optional...} calls are for
 * such keys and return null for null, the others for the rest. A call that disagrees with
 * reference.conf is a bug and throws {@link IllegalStateException}, whatever the file says, so
 * that any test that loads a configuration finds it.
 */
final class ConfigReader {

    /** The key under which one value is wrapped to use Typesafe Config's conversions. */
    private static final String VALUE = "value";

    /** Turns one value into a T, or throws IllegalArgumentException with what is wrong. */
    @FunctionalInterface
    private interface Parser<T> {
        T parse(ConfigValue value);
    }

    /** A single value as text: numbers and booleans too, as Typesafe Config's getString gives them. */
    private static final Parser<String> TEXT = v -> convert(v, "expected a string", c -> c.getString(VALUE));

    private final Schema schema;
    private final Problems problems;
    /** The {@code mailproxy} object of the file over reference.conf: where an object's defaults are found. */
    private final ConfigObject merged;
    /** This object's values: what the file wrote over the defaults. */
    private final ConfigObject values;
    /** What the file itself wrote for this object (empty when nothing). */
    private final ConfigObject own;
    /** Where the file wrote this object, or the nearest object around it that it wrote. */
    private final ConfigOrigin origin;
    private final String path;
    private final String schemaPath;
    private final String name;

    private ConfigReader(Schema schema, Problems problems, ConfigObject merged, ConfigObject values, ConfigObject own,
                         ConfigOrigin origin, String path, String schemaPath, String name) {
        this.schema = schema;
        this.problems = problems;
        this.merged = merged;
        this.values = values;
        this.own = own;
        this.origin = origin;
        this.path = path;
        this.schemaPath = schemaPath;
        this.name = name;
    }

    /**
     * The reader of {@code mailproxy} itself.
     *
     * @param merged the file's {@code mailproxy} object over reference.conf's, resolved
     * @param own the file's own {@code mailproxy} object (empty when it has none)
     * @param origin where the file wrote it
     */
    static ConfigReader root(Schema schema, Problems problems, ConfigObject merged, ConfigObject own, ConfigOrigin origin) {
        return new ConfigReader(schema, problems, merged, merged, own, origin, Schema.ROOT, "", Schema.ROOT);
    }

    /** This object's name: the key of a named entry ({@code pool} of {@code backends.pool}), the index of a list element. */
    String name() {
        return name;
    }

    /** This object's path, e.g. {@code mailproxy.backends.pool}. */
    String path() {
        return path;
    }

    /** A key's path, e.g. {@code mailproxy.backends.pool.retries}. */
    String path(String key) {
        return path + "." + key;
    }

    /** Where this object was written (or the nearest object around it that was). */
    ConfigOrigin origin() {
        return origin;
    }

    // ---- single values ----

    boolean bool(String key) {
        return read(key, false, v -> convert(v, "expected true or false", c -> c.getBoolean(VALUE)));
    }

    String string(String key) {
        return read(key, false, TEXT);
    }

    String optionalString(String key) {
        return read(key, true, TEXT);
    }

    int intIn(String key, int min, int max) {
        return read(key, false, v -> intIn(v, min, max));
    }

    Integer optionalIntIn(String key, int min, int max) {
        return read(key, true, v -> intIn(v, min, max));
    }

    /** A duration longer than zero. */
    Duration duration(String key) {
        return read(key, false, v -> duration(v, false));
    }

    /** A duration of zero or more. */
    Duration durationOrZero(String key) {
        return read(key, false, v -> duration(v, true));
    }

    /** A duration longer than zero, or null. */
    Duration optionalDuration(String key) {
        return read(key, true, v -> duration(v, false));
    }

    /** A duration of zero or more, or null. */
    Duration optionalDurationOrZero(String key) {
        return read(key, true, v -> duration(v, true));
    }

    /** One of an enum's constants, written in lower case with dashes: {@code static-rr} for {@code STATIC_RR}. */
    <E extends Enum<E>> E enumValue(String key, Class<E> type) {
        return read(key, false, v -> {
            String text = TEXT.parse(v);
            List<String> names = new ArrayList<>();
            for (E e : type.getEnumConstants()) {
                String configName = e.name().toLowerCase().replace('_', '-');
                names.add(configName);
                if (configName.equals(text.trim().toLowerCase())) {
                    return e;
                }
            }
            throw new IllegalArgumentException("\"" + text + "\" is not one of " + String.join(" | ", names));
        });
    }

    /** A value parsed from its text; the parser's {@link IllegalArgumentException} is the problem. */
    <T> T parsed(String key, Function<String, T> parser) {
        return read(key, false, v -> parser.apply(TEXT.parse(v)));
    }

    /** As {@link #parsed}, or null. */
    <T> T optionalParsed(String key, Function<String, T> parser) {
        return read(key, true, v -> parser.apply(TEXT.parse(v)));
    }

    // ---- lists of values ----

    /** A list of strings, each parsed; each problem is placed on its element's line. */
    <T> List<T> strings(String key, Function<String, T> parser) {
        return stringsWithOrigin(key, (text, at) -> parser.apply(text));
    }

    /** As {@link #strings(String, Function)}, the parser also given the element's origin. */
    <T> List<T> stringsWithOrigin(String key, BiFunction<String, ConfigOrigin, T> parser) {
        ConfigValue list = value(key, false);
        List<T> out = new ArrayList<>();
        if (list.valueType() != ConfigValueType.LIST) {
            problems.failAgain();
            return out;
        }
        for (Object o : (List<?>) list) {
            ConfigValue element = (ConfigValue) o;
            if (element.valueType() != ConfigValueType.STRING && element.valueType() != ConfigValueType.NUMBER) {
                problems.add(element.origin(), path(key), "expected a string, found " + element.valueType().name().toLowerCase());
                continue;
            }
            try {
                out.add(parser.apply(String.valueOf(element.unwrapped()), element.origin()));
            } catch (IllegalArgumentException e) {
                problems.add(element.origin(), path(key), e.getMessage());
            }
        }
        return out;
    }

    /** True for an empty list or object; false for anything else. */
    boolean isEmpty(String key) {
        ConfigValue v = value(key, true);
        return (v instanceof List<?> l && l.isEmpty()) || (v instanceof ConfigObject o && o.isEmpty());
    }

    boolean isObject(String key) {
        return value(key, true).valueType() == ConfigValueType.OBJECT;
    }

    /** Whether the file wrote this key for this object itself (not through a default). */
    boolean written(String key) {
        return Schema.lookup(own, key) != null;
    }

    /** The keys the file wrote for this object itself. */
    Set<String> writtenKeys() {
        return own.keySet();
    }

    // ---- records ----

    /** The record an object reads itself into; null when the key is null or anything in it failed. */
    <T> T object(String key, Function<ConfigReader, T> read) {
        ConfigValue v = value(key, true);
        String over = schema.objectOver(Schema.join(schemaPath, key));
        if (over == null) {
            throw new IllegalStateException("reference.conf: " + qualified(key) + " takes no object");
        }
        if (v.valueType() == ConfigValueType.NULL && schema.nullable(Schema.join(schemaPath, key))) {
            return null;
        }
        if (v.valueType() != ConfigValueType.OBJECT) {
            problems.failAgain();
            return null;
        }
        ConfigObject written = Schema.lookup(own, key) instanceof ConfigObject o ? o : null;
        return child((ConfigObject) v, written, path(key), over, key).readInto(read);
    }

    /** The records a list of objects reads itself into, those that failed left out. */
    <T> List<T> list(String key, Function<ConfigReader, T> read) {
        ConfigValue v = value(key, false);
        String over = schema.elements(Schema.join(schemaPath, key));
        if (over == null) {
            throw new IllegalStateException("reference.conf: " + qualified(key) + " is no list of objects");
        }
        List<T> out = new ArrayList<>();
        if (v.valueType() != ConfigValueType.LIST) {
            problems.failAgain();
            return out;
        }
        List<?> list = (List<?>) v;
        for (int i = 0; i < list.size(); i++) {
            ConfigValue element = (ConfigValue) list.get(i);
            if (element.valueType() != ConfigValueType.OBJECT) {
                problems.failAgain();
                continue;
            }
            String index = Integer.toString(i);
            T t = child((ConfigObject) element, (ConfigObject) element, path(key) + "." + index, over, index).readInto(read);
            if (t != null) {
                out.add(t);
            }
        }
        return out;
    }

    /** The records named entries read themselves into, in file order, those that failed left out. */
    <T> Map<String, T> map(String key, Function<ConfigReader, T> read) {
        String over = entriesOver(key);
        Map<String, T> out = new LinkedHashMap<>();
        ConfigValue v = value(key, false);
        if (!(v instanceof ConfigObject entries)) {
            problems.failAgain();
            return out;
        }
        for (String entryName : Schema.inFileOrder(entries)) {
            ConfigValue entry = entries.get(entryName);
            if (entry.valueType() != ConfigValueType.OBJECT) {
                problems.failAgain();
                continue;
            }
            T t = child((ConfigObject) entry, (ConfigObject) entry, Schema.child(path(key), entryName), over, entryName)
                    .readInto(read);
            if (t != null) {
                out.put(entryName, t);
            }
        }
        return out;
    }

    /** The names of a key's entries in file order, also of those that fail to read (for "no backend named ..."). */
    List<String> names(String key) {
        entriesOver(key);
        return value(key, false) instanceof ConfigObject entries ? Schema.inFileOrder(entries) : List.of();
    }

    // ---- problems ----

    /** A problem with a key, placed where the file wrote it (or at this object when a default applies). */
    void problem(String key, String message) {
        problems.add(origin(key), path(key), message);
    }

    /** A problem placed at an origin a record kept (a {@link BindAddress}'s). */
    void problem(ConfigOrigin at, String atPath, String message) {
        problems.add(at, atPath, message);
    }

    /**
     * Reads this object into a record: null when any read in it failed (those were reported); an
     * {@link IllegalArgumentException} from the record's constructor is reported at this object.
     */
    <T> T readInto(Function<ConfigReader, T> read) {
        int before = problems.failures();
        try {
            T value = read.apply(this);
            return problems.failures() == before ? value : null;
        } catch (IllegalArgumentException e) {
            if (problems.failures() == before) {
                problems.add(origin, path, e.getMessage());
            }
            return null;
        } catch (NullPointerException e) {
            // A value that failed to read (and was reported) is null; a constructor's
            // requireNonNull then refuses it. Without a failure it is a bug.
            if (problems.failures() == before) {
                throw e;
            }
            return null;
        }
    }

    /** {@code s}, unless it is empty: then the message is the problem (for keys whose default "" means "required"). */
    static String nonEmpty(String s, String message) {
        if (s.isEmpty()) {
            throw new IllegalArgumentException(message);
        }
        return s;
    }

    // ---- the machinery ----

    /**
     * The reader of an object within this one, over the defaults at schema path {@code over}.
     *
     * @param written what the file wrote for it, or null when it comes from defaults alone
     */
    private ConfigReader child(ConfigObject value, ConfigObject written, String childPath, String over, String childName) {
        ConfigObject defaults = (ConfigObject) Schema.lookup(merged, over);
        // An object written in two places (a.b = 1 and a { c = 2 }) has no line of its own.
        boolean placed = written != null && written.origin().lineNumber() >= 0;
        return new ConfigReader(schema, problems, merged, over(value, defaults),
                written != null ? written : ConfigFactory.empty().root(), placed ? written.origin() : origin, childPath,
                over, childName);
    }

    /**
     * {@code value}'s keys laid over {@code defaults}, objects key by key. Not withFallback: an
     * object that once replaced a null (a backend's {@code stick-table {}} over the default null)
     * ignores every fallback after that, by Typesafe Config's merge rules.
     */
    private static ConfigObject over(ConfigObject value, ConfigObject defaults) {
        ConfigObject out = defaults;
        for (Map.Entry<String, ConfigValue> e : value.entrySet()) {
            ConfigValue v = e.getValue();
            out = out.withValue(e.getKey(), v instanceof ConfigObject o && defaults.get(e.getKey()) instanceof ConfigObject d
                    ? over(o, d) : v);
        }
        return out;
    }

    private String entriesOver(String key) {
        String over = schema.entries(Schema.join(schemaPath, key));
        if (over == null) {
            throw new IllegalStateException("reference.conf: " + qualified(key) + " has no named entries");
        }
        return over;
    }

    private <T> T read(String key, boolean optional, Parser<T> parser) {
        if (optional && !schema.nullable(Schema.join(schemaPath, key))) {
            // A null here was refused by Schema.check; reading it as "none" would hide that.
            throw new IllegalStateException("reference.conf does not let " + qualified(key) + " be null: read it without optional");
        }
        ConfigValue v = value(key, optional);
        if (v.valueType() == ConfigValueType.NULL && optional) {
            return null;
        }
        if (v.valueType() == ConfigValueType.NULL || v.valueType() == ConfigValueType.LIST
                || v.valueType() == ConfigValueType.OBJECT) {
            // Null where it may not be, or not a single value: Schema.check reported it.
            problems.failAgain();
            return fallback(key, parser);
        }
        try {
            return parser.parse(v);
        } catch (IllegalArgumentException e) {
            problem(key, e.getMessage());
            return fallback(key, parser);
        }
    }

    /**
     * reference.conf's default for a key that failed to read, so that the checks between this key
     * and others see a sensible value; null when the default does not read (e.g. "" for a
     * required key). The record it is read for is not built either way.
     */
    private <T> T fallback(String key, Parser<T> parser) {
        ConfigValue d = schema.defaultAt(Schema.join(schemaPath, key));
        try {
            return d == null || d.valueType() == ConfigValueType.NULL ? null : parser.parse(d);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * The key's value over its default (a ConfigNull for null).
     *
     * @param expectsNull whether the caller reads null as "none"; it must where reference.conf
     *     lets the key be null
     */
    private ConfigValue value(String key, boolean expectsNull) {
        ConfigValue v = Schema.lookup(values, key);
        if (v == null) {
            throw new IllegalStateException("reference.conf has no key " + qualified(key));
        }
        if (schema.nullable(Schema.join(schemaPath, key)) && !expectsNull) {
            throw new IllegalStateException("reference.conf lets " + qualified(key) + " be null: read it with optional...");
        }
        return v;
    }

    private String qualified(String key) {
        return Schema.ROOT + "." + Schema.join(schemaPath, key);
    }

    /** Where a key was written; a default's place in reference.conf means nothing to the user, so then this object's. */
    ConfigOrigin origin(String key) {
        ConfigValue v = Schema.lookup(values, key);
        ConfigValue d = schema.defaultAt(Schema.join(schemaPath, key));
        return v == null || (d != null && v.origin().equals(d.origin())) ? origin : v.origin();
    }

    /** Typesafe Config's own conversions (so "yes" is true and 5s a duration, as before), their failure in words. */
    private static <T> T convert(ConfigValue v, String expected, Function<Config, T> get) {
        try {
            return get.apply(v.atKey(VALUE));
        } catch (ConfigException.WrongType | ConfigException.BadValue e) {
            throw new IllegalArgumentException(expected);
        }
    }

    private static int intIn(ConfigValue v, int min, int max) {
        int value = convert(v, "expected a whole number from " + min + " to " + max, c -> c.getInt(VALUE));
        if (value < min || value > max) {
            throw new IllegalArgumentException(value + " is not within " + min + ".." + max);
        }
        return value;
    }

    private static Duration duration(ConfigValue v, boolean zeroAllowed) {
        Duration d = convert(v, "expected a duration such as 500ms, 5s or 31m", c -> c.getDuration(VALUE));
        if (d.isNegative()) {
            throw new IllegalArgumentException("must not be negative");
        }
        if (d.isZero() && !zeroAllowed) {
            throw new IllegalArgumentException("must be longer than zero");
        }
        return d;
    }
}
