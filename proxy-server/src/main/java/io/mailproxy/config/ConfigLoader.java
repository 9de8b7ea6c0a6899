package io.mailproxy.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigResolver;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Reads a HOCON file over {@code reference.conf} into {@link ProxySettings}, reporting every
 * problem it finds (not just the first) with the file, line and key.
 *
 * <p>{@code reference.conf} is the only source of keys, shapes and defaults: {@link Schema} checks
 * the file's shape against it (unknown keys, a list where an object goes), then each settings
 * record reads itself from a {@link ConfigReader} over the defaults that apply to it (a frontend
 * over {@code mailproxy.defaults.frontend}, a server over {@code mailproxy.defaults.server}...).
 * Keys that the reference does not know are errors, so that a typo never falls back to a default
 * silently. Two loads of the same file give equal settings.
 */
public final class ConfigLoader {

    private static final String ROOT = Schema.ROOT;

    private final Map<String, String> variables;

    private ConfigLoader(Map<String, String> variables) {
        this.variables = Map.copyOf(variables);
    }

    /** Loads {@code file}; substitutions resolve from the environment. */
    public static ProxySettings load(Path file) throws ConfigurationException {
        return new ConfigLoader(Map.of()).read(file);
    }

    /**
     * Loads {@code file}; substitutions resolve from {@code variables} first, then from the
     * environment (the demo uses this to point its sample file at generated certificates).
     */
    public static ProxySettings load(Path file, Map<String, String> variables) throws ConfigurationException {
        return new ConfigLoader(variables).read(file);
    }

    private ProxySettings read(Path file) throws ConfigurationException {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new ConfigurationException(List.of(new ConfigProblem(file.toString(), -1, ROOT,
                    Files.exists(file) ? "the file cannot be read" : "no such file")));
        }
        Config user;
        Config merged;
        try {
            Config parsed = ConfigFactory.parseFile(file.toFile(),
                    ConfigParseOptions.defaults().setAllowMissing(false).setSyntax(ConfigSyntax.CONF));
            ConfigResolveOptions options = ConfigResolveOptions.defaults().appendResolver(new VariableResolver());
            merged = parsed.withFallback(Reference.CONFIG).resolve(options);
            user = parsed.resolveWith(merged, options);
        } catch (ConfigException e) {
            throw new ConfigurationException(List.of(fromException(e, file)));
        }
        return read(user, merged, Reference.SCHEMA, r -> ProxySettings.read(r, file));
    }

    /**
     * Checks a file's shape against a schema, then reads its {@code mailproxy} object with
     * {@code read}; every problem found by either is thrown at once.
     *
     * @param user the file alone, resolved
     * @param merged the file over the reference the schema was made of, resolved
     */
    static <T> T read(Config user, Config merged, Schema schema, Function<ConfigReader, T> read)
            throws ConfigurationException {
        Problems problems = new Problems();
        schema.check(user.root(), problems);
        ConfigValue own = user.root().get(ROOT);
        if (own != null && !(own instanceof ConfigObject)) {
            // `mailproxy = 5`: reported by the check, and there is nothing to read.
            problems.throwIfAny();
        }
        ConfigReader root = ConfigReader.root(schema, problems, merged.getObject(ROOT),
                own == null ? ConfigFactory.empty().root() : (ConfigObject) own, own == null ? user.origin() : own.origin());
        T settings = root.readInto(read);
        problems.throwIfAny();
        if (settings == null) {
            throw new IllegalStateException("a read failed without a reported problem");
        }
        return settings;
    }

    private static ConfigProblem fromException(ConfigException e, Path file) {
        String message = e.getMessage();
        ConfigOrigin origin = e.origin();
        if (origin != null) {
            // Typesafe prefixes its messages with the origin; the problem carries it separately.
            String prefix = origin.description() + ": ";
            if (message.startsWith(prefix)) {
                message = message.substring(prefix.length());
            }
        }
        ConfigProblem problem = ConfigProblem.at(origin, ROOT, message);
        return origin == null ? new ConfigProblem(file.toString(), -1, ROOT, message) : problem;
    }

    /** Resolves {@code ${NAME}} from the loader's variables before the environment. */
    private final class VariableResolver implements ConfigResolver {
        @Override
        public ConfigValue lookup(String path) {
            String value = variables.get(path);
            return value == null ? null : ConfigValueFactory.fromAnyRef(value, "variable " + path);
        }

        @Override
        public ConfigResolver withFallback(ConfigResolver fallback) {
            return this;
        }
    }

    /** The jar's reference.conf and its schema, read once: a reload reads only the user's file. */
    private static final class Reference {
        static final Config CONFIG = ConfigFactory.parseResources(ConfigLoader.class, "/reference.conf",
                ConfigParseOptions.defaults().setAllowMissing(false)).resolve();
        static final Schema SCHEMA = Schema.of(CONFIG);
    }
}
