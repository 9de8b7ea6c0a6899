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
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import io.mailproxy.checks.CheckProxyHeader;
import io.mailproxy.mail.MailProtocol;
import io.mailproxy.proxyprotocol.ProxyProtocolDecoder;
import io.mailproxy.stick.StickTableSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a HOCON file over {@code reference.conf} into {@link ProxySettings}, reporting every
 * problem it finds (not just the first) with the file, line and key.
 *
 * <p>Defaults live only in {@code reference.conf}: a frontend is its own keys over
 * {@code mailproxy.defaults.frontend}, a backend over {@code mailproxy.defaults.backend}, a server
 * over {@code mailproxy.defaults.server}. Keys that the reference does not know are errors, so that a
 * typo never falls back to a default silently.
 */
public final class ConfigLoader {

    private static final String ROOT = "mailproxy";
    private static final String FRONTEND_DEFAULTS = "mailproxy.defaults.frontend";
    private static final String BACKEND_DEFAULTS = "mailproxy.defaults.backend";
    private static final String SERVER_DEFAULTS = "mailproxy.defaults.server";
    private static final String STICK_TABLE_DEFAULTS = "mailproxy.defaults.stick-table";
    private static final Set<String> CERTIFICATE_KEYS = Set.of("cert", "key");

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
        Problems problems = new Problems();
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new ConfigurationException(List.of(new ConfigProblem(file.toString(), -1, ROOT,
                    Files.exists(file) ? "the file cannot be read" : "no such file")));
        }
        Config user;
        Config merged;
        try {
            Config parsed = ConfigFactory.parseFile(file.toFile(),
                    ConfigParseOptions.defaults().setAllowMissing(false).setSyntax(ConfigSyntax.CONF));
            Config reference = ConfigFactory.parseResources(ConfigLoader.class, "/reference.conf",
                    ConfigParseOptions.defaults().setAllowMissing(false));
            ConfigResolveOptions options = ConfigResolveOptions.defaults().appendResolver(new VariableResolver());
            merged = parsed.withFallback(reference).resolve(options);
            user = parsed.resolveWith(merged, options);
            new SchemaCheck(reference, problems).check(user);
        } catch (ConfigException e) {
            throw new ConfigurationException(List.of(fromException(e, file)));
        }
        ProxySettings settings;
        try {
            settings = new SettingsReader(merged, problems).read(file);
        } catch (ConfigException e) {
            // A value of the wrong shape that the reader did not anticipate: still one clear line.
            problems.list.add(fromException(e, file));
            settings = null;
        }
        problems.throwIfAny();
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

    /** Collects problems so the user sees all of them at once. */
    static final class Problems {
        private final List<ConfigProblem> list = new ArrayList<>();

        void add(ConfigOrigin origin, String path, String message) {
            list.add(ConfigProblem.at(origin, path, message));
        }

        boolean isEmpty() {
            return list.isEmpty();
        }

        void throwIfAny() throws ConfigurationException {
            if (!list.isEmpty()) {
                throw new ConfigurationException(list);
            }
        }
    }

    /** Rejects keys that {@code reference.conf} does not define. */
    private static final class SchemaCheck {
        private final Config reference;
        private final Problems problems;

        SchemaCheck(Config reference, Problems problems) {
            this.reference = reference;
            this.problems = problems;
        }

        void check(Config user) {
            for (Map.Entry<String, ConfigValue> e : user.root().entrySet()) {
                if (!e.getKey().equals(ROOT)) {
                    problems.add(e.getValue().origin(), e.getKey(), "unknown key (the configuration lives under \"mailproxy\")");
                }
            }
            if (user.hasPath(ROOT) && user.getValue(ROOT).valueType() == ConfigValueType.OBJECT) {
                object(user.getObject(ROOT), reference.getObject(ROOT), ROOT);
            }
        }

        private void object(ConfigObject value, ConfigObject schema, String path) {
            for (Map.Entry<String, ConfigValue> e : value.entrySet()) {
                String key = e.getKey();
                String child = path + "." + ConfigUtil.quoteString(key).replaceAll("^\"([A-Za-z0-9_-]+)\"$", "$1");
                ConfigValue v = e.getValue();
                String mapSchema = mapEntrySchema(path);
                if (mapSchema != null) {
                    entry(v, reference.getObject(mapSchema), child);
                } else if (!schema.containsKey(key)) {
                    problems.add(v.origin(), child, "unknown key" + suggestion(key, schema.keySet()));
                } else {
                    entry(v, schema.get(key), child);
                }
            }
        }

        private void entry(ConfigValue v, ConfigValue schema, String path) {
            if (v.valueType() == ConfigValueType.OBJECT && schema.valueType() != ConfigValueType.OBJECT
                    && path.endsWith(".stick-table")) {
                // A backend's stick-table is null or a name by default, or a table of its own.
                object((ConfigObject) v, reference.getObject(STICK_TABLE_DEFAULTS), path);
            } else if (v.valueType() == ConfigValueType.OBJECT && schema.valueType() == ConfigValueType.OBJECT) {
                object((ConfigObject) v, (ConfigObject) schema, path);
            } else if (v.valueType() == ConfigValueType.LIST) {
                String elementSchema = listElementSchema(path);
                List<?> list = (List<?>) v;
                for (int i = 0; i < list.size(); i++) {
                    ConfigValue element = (ConfigValue) list.get(i);
                    if (element.valueType() != ConfigValueType.OBJECT) {
                        continue;
                    }
                    String elementPath = path + "." + i;
                    if (elementSchema != null) {
                        object((ConfigObject) element, reference.getObject(elementSchema), elementPath);
                    } else if (path.endsWith(".certificates")) {
                        for (Map.Entry<String, ConfigValue> field : ((ConfigObject) element).entrySet()) {
                            if (!CERTIFICATE_KEYS.contains(field.getKey())) {
                                problems.add(field.getValue().origin(), elementPath + "." + field.getKey(),
                                        "unknown key" + suggestion(field.getKey(), CERTIFICATE_KEYS));
                            }
                        }
                    }
                }
            }
        }

        /** The schema of each entry of a map whose keys the user names (frontends, backends). */
        private static String mapEntrySchema(String path) {
            return switch (path) {
                case "mailproxy.frontends" -> FRONTEND_DEFAULTS;
                case "mailproxy.backends" -> BACKEND_DEFAULTS;
                case "mailproxy.stick-tables" -> STICK_TABLE_DEFAULTS;
                default -> null;
            };
        }

        private static String listElementSchema(String path) {
            return path.endsWith(".servers") ? SERVER_DEFAULTS : null;
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

    /** Maps the merged configuration to records, collecting problems instead of stopping at one. */
    private static final class SettingsReader {
        private final Config merged;
        private final Problems problems;

        SettingsReader(Config merged, Problems problems) {
            this.merged = merged;
            this.problems = problems;
        }

        ProxySettings read(Path file) {
            Config root = merged.getConfig(ROOT);
            TlsEngine engine = enumValue(root, ROOT, "tls-engine", TlsEngine.class, TlsEngine.AUTO);
            int ioThreads = intIn(root, ROOT, "io-threads", 0, 4096, 0);
            IoTransport ioTransport = enumValue(root, ROOT, "io-transport", IoTransport.class, IoTransport.NIO);
            LogSettings log = new LogSettings(intIn(root, ROOT, "log.max-pending-lines", 1, 10_000_000, 10_000));
            int maxConnections = intIn(root, ROOT, "max-connections", 0, Integer.MAX_VALUE, 0);

            Map<String, StickTableSettings> stickTables = new LinkedHashMap<>();
            for (String name : inFileOrder(root.getObject("stick-tables"))) {
                String path = ROOT + ".stick-tables." + ConfigUtil.quoteString(name).replaceAll("^\"([A-Za-z0-9_-]+)\"$", "$1");
                StickTableSettings t = stickTable(merged.getValue(path), path, name, true);
                if (t != null) {
                    stickTables.put(name, t);
                }
            }
            Map<String, BackendSettings> backends = new LinkedHashMap<>();
            ConfigObject backendObjects = root.getObject("backends");
            for (String name : inFileOrder(backendObjects)) {
                BackendSettings b = backend(name, stickTables, root.getObject("stick-tables").keySet());
                if (b != null) {
                    backends.put(name, b);
                }
            }
            Map<String, FrontendSettings> frontends = new LinkedHashMap<>();
            ConfigObject frontendObjects = root.getObject("frontends");
            for (String name : inFileOrder(frontendObjects)) {
                FrontendSettings f = frontend(name, backendObjects.keySet());
                if (f != null) {
                    frontends.put(name, f);
                }
            }
            if (frontendObjects.isEmpty()) {
                problems.add(root.getValue("frontends").origin(), "mailproxy.frontends", "no frontend is configured");
            }
            checkDistinctBinds(frontends);
            return new ProxySettings(file, engine, ioThreads, ioTransport, log, frontends, backends, stickTables,
                    maxConnections);
        }

        /**
         * The entries' names in the order they were written: HOCON objects do not keep it, and
         * listeners should bind and log in the order the user reads them.
         */
        private static List<String> inFileOrder(ConfigObject object) {
            return object.keySet().stream()
                    .sorted(java.util.Comparator.<String>comparingInt(k -> object.get(k).origin().lineNumber())
                            .thenComparing(java.util.Comparator.naturalOrder()))
                    .toList();
        }

        private FrontendSettings frontend(String name, Set<String> backendNames) {
            String path = ROOT + ".frontends." + ConfigUtil.quoteString(name).replaceAll("^\"([A-Za-z0-9_-]+)\"$", "$1");
            ConfigValue own = merged.getValue(path);
            if (own.valueType() != ConfigValueType.OBJECT) {
                problems.add(own.origin(), path, "expected an object with the keys of mailproxy.defaults.frontend");
                return null;
            }
            Config c = ((ConfigObject) own).toConfig().withFallback(merged.getConfig(FRONTEND_DEFAULTS));
            int before = problemCount();

            List<BindAddress> bind = new ArrayList<>();
            for (Located<String> s : stringList(c, path, "bind")) {
                try {
                    bind.add(new BindAddress(HostPort.parse(s.value()).requireResolvable(), path + ".bind", s.origin()));
                } catch (IllegalArgumentException e) {
                    problems.add(s.origin(), path + ".bind", e.getMessage());
                }
            }
            if (bind.isEmpty() && c.getList("bind").isEmpty()) {
                problems.add(own.origin(), path + ".bind", "at least one address to listen on is required, e.g. [\"0.0.0.0:993\"]");
            }
            MailProtocol protocol = enumValue(c, path, "protocol", MailProtocol.class, MailProtocol.IMAP);
            String backend = string(c, path, "backend", "");
            if (backend.isEmpty()) {
                problems.add(own.origin(), path + ".backend", "a backend is required (one of " + backendNames + ")");
            } else if (!backendNames.contains(backend)) {
                problems.add(c.getValue("backend").origin(), path + ".backend",
                        "no backend named \"" + backend + "\" " + (backendNames.isEmpty() ? "(no backend is configured)"
                                : "(known: " + String.join(", ", backendNames) + ")"));
            }
            TlsSettings tls = tls(c, path + ".tls", own.origin());
            String protocolDefaults = ROOT + ".protocol-defaults." + protocol.configName();
            Duration idle = c.getIsNull("timeout.idle")
                    ? duration(merged.getConfig(protocolDefaults), protocolDefaults, "idle-timeout", Duration.ofMinutes(31))
                    : positiveDuration(c, path, "timeout.idle");
            Duration grace = c.getIsNull("shutdown-grace")
                    ? duration(merged.getConfig(protocolDefaults), protocolDefaults, "shutdown-grace", Duration.ZERO)
                    : duration(c, path, "shutdown-grace", Duration.ZERO);
            Duration clientFin = positiveDuration(c, path, "timeout.client-fin");
            int perSource = intIn(c, path, "max-connections-per-source", 0, Integer.MAX_VALUE, 0);
            int ipv6Prefix = intIn(c, path, "source-ipv6-prefix", 1, 128, 64);
            AcceptProxySettings acceptProxy = acceptProxy(c, path + ".accept-proxy", (ConfigObject) own);
            int maxConnections = intIn(c, path, "max-connections", 0, Integer.MAX_VALUE, 0);
            RateLimit rateLimit = null;
            if (!c.getIsNull("rate-limit-per-source")) {
                String text = string(c, path, "rate-limit-per-source", null);
                if (text != null) {
                    try {
                        rateLimit = RateLimit.parse(text);
                    } catch (IllegalArgumentException e) {
                        problems.add(c.getValue("rate-limit-per-source").origin(), path + ".rate-limit-per-source",
                                e.getMessage());
                    }
                }
            }
            if (problemCount() != before || tls == null || idle == null || clientFin == null) {
                return null;
            }
            return new FrontendSettings(name, bind, protocol, tls, backend, idle, acceptProxy, maxConnections, rateLimit,
                    perSource, ipv6Prefix, clientFin, grace);
        }

        /** Null when the frontend takes no PROXY header. */
        private AcceptProxySettings acceptProxy(Config frontend, String path, ConfigObject own) {
            ConfigValue block = frontend.getValue("accept-proxy");
            if (block.valueType() != ConfigValueType.OBJECT) {
                problems.add(block.origin(), path, "expected an object such as { enabled = true, trusted-networks = [\"10.0.0.0/8\"] }");
                return null;
            }
            Config c = frontend.getConfig("accept-proxy");
            boolean enabled = bool(c, path, "enabled");
            ConfigValue ownBlock = own.get("accept-proxy");
            if (!enabled && ownBlock instanceof ConfigObject o && !o.isEmpty() && !o.containsKey("enabled")) {
                // A block without `enabled` reads as "require the header": do not silently ignore it.
                problems.add(ownBlock.origin(), path + ".enabled",
                        "accept-proxy is configured but not enabled; add enabled = true (or enabled = false to keep it off)");
            }
            List<Cidr> networks = new ArrayList<>();
            for (Located<String> s : stringList(c, path, "trusted-networks")) {
                try {
                    networks.add(Cidr.parse(s.value()));
                } catch (IllegalArgumentException e) {
                    problems.add(s.origin(), path + ".trusted-networks", e.getMessage());
                }
            }
            Duration timeout = positiveDuration(c, path, "timeout");
            int maxHeaderSize = intIn(c, path, "max-header-size", ProxyProtocolDecoder.MIN_MAX_HEADER_SIZE,
                    ProxyProtocolDecoder.MAX_MAX_HEADER_SIZE, ProxyProtocolDecoder.DEFAULT_MAX_HEADER_SIZE);
            boolean forwardSsl = bool(c, path, "forward-ssl");
            if (!enabled || timeout == null) {
                return null;
            }
            return new AcceptProxySettings(networks, timeout, maxHeaderSize, forwardSsl);
        }

        /** HAProxy's {@code proxy-v2-options}, valid only with a v2 header. */
        private Set<ProxyV2Option> proxyV2Options(Config c, String path, SendProxy sendProxy) {
            Set<ProxyV2Option> options = EnumSet.noneOf(ProxyV2Option.class);
            List<String> names = new ArrayList<>();
            for (ProxyV2Option o : ProxyV2Option.values()) {
                names.add(o.configName());
            }
            for (Located<String> s : stringList(c, path, "proxy-v2-options")) {
                ProxyV2Option match = null;
                for (ProxyV2Option o : ProxyV2Option.values()) {
                    if (o.configName().equals(s.value().trim().toLowerCase())) {
                        match = o;
                    }
                }
                if (match == null) {
                    problems.add(s.origin(), path + ".proxy-v2-options", "\"" + s.value() + "\" is not one of " + String.join(", ", names));
                } else {
                    options.add(match);
                }
            }
            if (!options.isEmpty() && (sendProxy == SendProxy.NONE || sendProxy == SendProxy.V1)) {
                problems.add(c.getValue("proxy-v2-options").origin(), path + ".proxy-v2-options",
                        "needs a v2 header: send-proxy is " + sendProxy.name().toLowerCase().replace('_', '-')
                                + ", use v2, v2-ssl or v2-ssl-cn");
            }
            return options;
        }

        private TlsSettings tls(Config frontend, String path, ConfigOrigin frontendOrigin) {
            Config c = frontend.getConfig("tls");
            TlsMode mode = enumValue(c, path, "mode", TlsMode.class, TlsMode.NONE);
            List<CertificateFiles> certificates = new ArrayList<>();
            List<? extends ConfigValue> list = c.getList("certificates");
            for (int i = 0; i < list.size(); i++) {
                ConfigValue v = list.get(i);
                String entryPath = path + ".certificates." + i;
                if (v.valueType() != ConfigValueType.OBJECT) {
                    problems.add(v.origin(), entryPath, "expected { cert = \"/path/cert.pem\", key = \"/path/key.pem\" }");
                    continue;
                }
                Config entry = ((ConfigObject) v).toConfig();
                String cert = requiredString(entry, entryPath, "cert", v.origin());
                String key = requiredString(entry, entryPath, "key", v.origin());
                if (cert != null && key != null) {
                    certificates.add(new CertificateFiles(Path.of(cert), Path.of(key), entryPath, v.origin()));
                }
            }
            if (mode == TlsMode.IMPLICIT && list.isEmpty()) {
                problems.add(c.getValue("certificates").origin().lineNumber() < 0 ? frontendOrigin : c.getValue("certificates").origin(),
                        path + ".certificates", "TLS mode \"implicit\" needs at least one certificate");
            }
            List<String> protocols = new ArrayList<>();
            for (Located<String> p : stringList(c, path, "protocols")) {
                if (!p.value().equals("TLSv1.2") && !p.value().equals("TLSv1.3")) {
                    problems.add(p.origin(), path + ".protocols", "\"" + p.value() + "\" is not offered; use TLSv1.2 and/or TLSv1.3");
                } else {
                    protocols.add(p.value());
                }
            }
            if (protocols.isEmpty() && c.getList("protocols").isEmpty()) {
                problems.add(c.getValue("protocols").origin(), path + ".protocols", "at least one TLS version is required");
            }
            List<String> ciphers = stringList(c, path, "ciphers").stream().map(Located::value).toList();
            Duration handshake = positiveDuration(c, path, "handshake-timeout");
            if (handshake == null || (mode == TlsMode.IMPLICIT && certificates.isEmpty()) || protocols.isEmpty()) {
                return null;
            }
            return new TlsSettings(mode, certificates, protocols, ciphers, handshake);
        }

        private BackendSettings backend(String name, Map<String, StickTableSettings> stickTables, Set<String> tableNames) {
            String path = ROOT + ".backends." + ConfigUtil.quoteString(name).replaceAll("^\"([A-Za-z0-9_-]+)\"$", "$1");
            ConfigValue own = merged.getValue(path);
            if (own.valueType() != ConfigValueType.OBJECT) {
                problems.add(own.origin(), path, "expected an object with the keys of mailproxy.defaults.backend");
                return null;
            }
            Config c = ((ConfigObject) own).toConfig().withFallback(merged.getConfig(BACKEND_DEFAULTS));
            int before = problemCount();
            Balance balance = enumValue(c, path, "balance", Balance.class, Balance.LEASTCONN);
            HashType hashType = enumValue(c, path, "hash-type", HashType.class, HashType.MAP_BASED);
            SendProxy sendProxy = enumValue(c, path, "send-proxy", SendProxy.class, SendProxy.V2_SSL);
            int retries = intIn(c, path, "retries", 0, 100, 3);
            Duration connect = positiveDuration(c, path, "timeout.connect");
            // HAProxy: without `timeout queue` the connect timeout bounds the wait in the queue too.
            Duration queue = c.getIsNull("timeout.queue") ? connect : positiveDuration(c, path, "timeout.queue");
            Duration greeting = c.getIsNull("timeout.server-greeting") ? null
                    : positiveDuration(c, path, "timeout.server-greeting");
            Duration serverFin = positiveDuration(c, path, "timeout.server-fin");
            boolean redispatch = bool(c, path, "redispatch");
            boolean allBackups = bool(c, path, "all-backups");
            OnMarkedDown onMarkedDown = enumValue(c, path, "on-marked-down", OnMarkedDown.class, OnMarkedDown.NONE);
            HealthCheckSettings healthCheck = healthCheck(c, path);
            StickTableSettings stickTable = backendStickTable(c, path, name, stickTables, tableNames);

            List<ServerSettings> servers = new ArrayList<>();
            Set<String> names = new HashSet<>();
            List<? extends ConfigValue> list = c.getList("servers");
            if (list.isEmpty()) {
                problems.add(own.origin(), path + ".servers", "at least one server is required");
            }
            for (int i = 0; i < list.size(); i++) {
                ConfigValue v = list.get(i);
                String entryPath = path + ".servers." + i;
                if (v.valueType() != ConfigValueType.OBJECT) {
                    problems.add(v.origin(), entryPath, "expected { name = dc1, address = \"10.0.0.1:143\" }");
                    continue;
                }
                Config s = ((ConfigObject) v).toConfig().withFallback(merged.getConfig(SERVER_DEFAULTS));
                String serverName = string(s, entryPath, "name", "");
                if (serverName.isEmpty()) {
                    problems.add(v.origin(), entryPath + ".name", "a server needs a name");
                } else if (!names.add(serverName)) {
                    problems.add(s.getValue("name").origin(), entryPath + ".name", "another server of this backend is named \"" + serverName + "\"");
                }
                HostPort address = null;
                String text = string(s, entryPath, "address", "");
                if (text.isEmpty()) {
                    problems.add(v.origin(), entryPath + ".address", "a server needs an address like \"10.0.0.1:143\"");
                } else {
                    try {
                        address = HostPort.parse(text).requireResolvable();
                    } catch (IllegalArgumentException e) {
                        problems.add(s.getValue("address").origin(), entryPath + ".address", e.getMessage());
                    }
                }
                int weight = intIn(s, entryPath, "weight", 0, ServerSettings.MAX_WEIGHT, 1);
                boolean backup = bool(s, entryPath, "backup");
                int maxConnections = intIn(s, entryPath, "max-connections", 0, Integer.MAX_VALUE, 0);
                int maxQueue = intIn(s, entryPath, "max-queue", 0, Integer.MAX_VALUE, 0);
                if (maxQueue > 0 && maxConnections == 0) {
                    problems.add(s.getValue("max-queue").origin(), entryPath + ".max-queue",
                            "has no effect without max-connections: a server without a connection limit never queues");
                }
                if (address != null && !serverName.isEmpty()) {
                    servers.add(new ServerSettings(serverName, address, weight, backup, maxConnections, maxQueue));
                }
            }
            if (problemCount() != before) {
                return null;
            }
            return new BackendSettings(name, balance, hashType, sendProxy, retries, connect, servers,
                    allBackups, onMarkedDown, healthCheck, proxyV2Options(c, path, sendProxy), stickTable, redispatch, queue,
                    greeting, serverFin);
        }

        /** A backend's {@code health-check} section (already over the defaults); null after a problem. */
        private HealthCheckSettings healthCheck(Config backend, String backendPath) {
            String path = backendPath + ".health-check";
            ConfigValue own = backend.getValue("health-check");
            if (own.valueType() != ConfigValueType.OBJECT) {
                problems.add(own.origin(), path, "expected an object with the keys of mailproxy.defaults.backend.health-check");
                return null;
            }
            Config c = backend.getConfig("health-check");
            int before = problemCount();
            HealthCheckSettings.Type type = enumValue(c, path, "type", HealthCheckSettings.Type.class,
                    HealthCheckSettings.Type.NONE);
            Duration interval = positiveDuration(c, path, "interval");
            Duration fastInterval = positiveDuration(c, path, "fast-interval");
            Duration downInterval = positiveDuration(c, path, "down-interval");
            int rise = intIn(c, path, "rise", 1, 100, 2);
            int fall = intIn(c, path, "fall", 1, 100, 3);
            Duration timeout = positiveDuration(c, path, "timeout");
            CheckProxyHeader sendProxy = enumValue(c, path, "send-proxy", CheckProxyHeader.class, CheckProxyHeader.LOCAL);
            boolean tls = bool(c, path, "tls");
            boolean startUp = enumValue(c, path, "start", InitialState.class, InitialState.UP) == InitialState.UP;
            Integer port = c.getIsNull("port") ? null : intIn(c, path, "port", 1, 65535, 1);
            String address = null;
            if (!c.getIsNull("address")) {
                address = string(c, path, "address", "").trim();
                // "[::1]" as in server addresses; the brackets are not part of the host
                address = address.startsWith("[") && address.endsWith("]") ? address.substring(1, address.length() - 1) : address;
                if (address.isEmpty() || !address.chars().allMatch(ch -> ch > 0x20 && ch < 0x7F)) {
                    problems.add(c.getValue("address").origin(), path + ".address",
                            "expected a host name or IP address without port, e.g. \"10.0.0.5\" (the port goes in `port`)");
                }
            }
            List<String> capabilities = new ArrayList<>();
            for (Located<String> word : stringList(c, path, "expect-capabilities")) {
                if (!isWord(word.value())) {
                    problems.add(word.origin(), path + ".expect-capabilities",
                            "\"" + word.value() + "\" is not one capability word like \"IMAP4rev1\"");
                } else {
                    capabilities.add(word.value());
                }
            }
            String heloName = string(c, path, "helo-name", "localhost");
            if (!isWord(heloName)) {
                problems.add(c.getValue("helo-name").origin(), path + ".helo-name",
                        "\"" + heloName + "\" is not one printable word like \"mailproxy.example.com\"");
            }
            boolean observe = enumValue(c, path, "observe", Observe.class, Observe.LAYER4) == Observe.LAYER4;
            int errorLimit = intIn(c, path, "error-limit", 1, 1000, 10);
            if (problemCount() != before) {
                return null;
            }
            return new HealthCheckSettings(type, interval, fastInterval, downInterval, rise, fall, timeout, sendProxy,
                    tls, startUp, port, address, capabilities, heloName, observe, errorLimit);
        }

        /**
         * A backend's {@code stick-table}: null, the name of a shared table, or a table of its own.
         * Null after a problem too (which is then recorded).
         */
        private StickTableSettings backendStickTable(Config backend, String backendPath, String backendName,
                                                     Map<String, StickTableSettings> shared, Set<String> tableNames) {
            String path = backendPath + ".stick-table";
            if (backend.getIsNull("stick-table")) {
                return null;
            }
            ConfigValue v = backend.getValue("stick-table");
            if (v.valueType() == ConfigValueType.STRING) {
                String table = (String) v.unwrapped();
                if (!tableNames.contains(table)) {
                    problems.add(v.origin(), path, "no stick table \"" + table + "\" under mailproxy.stick-tables"
                            + (tableNames.isEmpty() ? "" : " (one of " + new java.util.TreeSet<>(tableNames) + ")"));
                }
                // A named table with a problem was reported where it is defined.
                return shared.get(table);
            }
            return stickTable(v, path, backendName, false);
        }

        /** A stick table's object over {@code mailproxy.defaults.stick-table}; null after a problem. */
        private StickTableSettings stickTable(ConfigValue own, String path, String name, boolean shared) {
            if (own.valueType() != ConfigValueType.OBJECT) {
                problems.add(own.origin(), path, shared
                        ? "expected an object with the keys of " + STICK_TABLE_DEFAULTS
                        : "expected null, the name of a table under mailproxy.stick-tables, or an object with the keys of "
                                + STICK_TABLE_DEFAULTS);
                return null;
            }
            // Key by key over the defaults: an object that replaced the backend default's null
            // ignores fallbacks (Typesafe Config's merge rule), so withFallback would add nothing.
            Config c = merged.getConfig(STICK_TABLE_DEFAULTS);
            for (Map.Entry<String, ConfigValue> e : ((ConfigObject) own).entrySet()) {
                c = c.withValue(ConfigUtil.quoteString(e.getKey()), e.getValue());
            }
            int before = problemCount();
            Integer size = null;
            ConfigValue sizeValue = c.getValue("size");
            Object raw = sizeValue.unwrapped();
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)\\s*(\\d{1,10})\\s*([kmg]?)\\s*")
                    .matcher(raw instanceof String || raw instanceof Number ? String.valueOf(raw) : "");
            if (m.matches()) {
                // HAProxy's size suffixes: k, m, g for 2^10, 2^20, 2^30.
                int shift = switch (m.group(2).toLowerCase()) {
                    case "k" -> 10;
                    case "m" -> 20;
                    case "g" -> 30;
                    default -> 0;
                };
                long entries = Long.parseLong(m.group(1)) << shift;
                if (entries < 1 || entries > StickTableSettings.MAX_SIZE) {
                    problems.add(sizeValue.origin(), path + ".size", raw + " (" + entries + " entries) is not within 1.."
                            + StickTableSettings.MAX_SIZE + " (64m)");
                } else {
                    size = (int) entries;
                }
            } else {
                problems.add(sizeValue.origin(), path + ".size",
                        "expected a number of entries like 200000, 200k or 1m (k = 1024, m = 1048576), found " + raw);
            }
            Duration expire = c.getIsNull("expire") ? null : positiveDuration(c, path, "expire");
            if (problemCount() != before || size == null) {
                return null;
            }
            return new StickTableSettings(name, shared, size, expire);
        }

        /** What SMTP and IMAP accept as one token: printable ASCII without spaces. */
        private static boolean isWord(String s) {
            return !s.isEmpty() && s.chars().allMatch(ch -> ch > 0x20 && ch < 0x7F);
        }

        /** {@code health-check.start}. */
        private enum InitialState { UP, DOWN }

        /** {@code health-check.observe}. */
        private enum Observe { NONE, LAYER4 }

        private boolean bool(Config c, String path, String key) {
            try {
                return c.getBoolean(key);
            } catch (ConfigException.WrongType e) {
                problems.add(c.getValue(key).origin(), path + "." + key, "expected true or false");
                return false;
            }
        }

        private void checkDistinctBinds(Map<String, FrontendSettings> frontends) {
            Map<String, BindAddress> seen = new LinkedHashMap<>();
            for (FrontendSettings f : frontends.values()) {
                for (BindAddress b : f.bind()) {
                    BindAddress earlier = seen.putIfAbsent(b.address().toString(), b);
                    if (earlier != null) {
                        problems.add(b.origin(), b.path(), b.address() + " is already bound by " + earlier.path()
                                + " (line " + earlier.origin().lineNumber() + ")");
                    }
                }
            }
        }

        private int problemCount() {
            return problems.list.size();
        }

        private record Located<T>(T value, ConfigOrigin origin) {
        }

        private String string(Config c, String path, String key, String fallback) {
            try {
                return c.getString(key);
            } catch (ConfigException.WrongType e) {
                problems.add(c.getValue(key).origin(), path + "." + key, "expected a string");
                return fallback;
            }
        }

        private String requiredString(Config c, String path, String key, ConfigOrigin entryOrigin) {
            if (!c.hasPath(key)) {
                problems.add(entryOrigin, path + "." + key, "missing");
                return null;
            }
            String s = string(c, path, key, "");
            if (s.isEmpty()) {
                problems.add(c.getValue(key).origin(), path + "." + key, "must not be empty");
                return null;
            }
            return s;
        }

        private List<Located<String>> stringList(Config c, String path, String key) {
            ConfigValue v = c.getValue(key);
            if (v.valueType() != ConfigValueType.LIST) {
                problems.add(v.origin(), path + "." + key, "expected a list like [\"a\", \"b\"]");
                return List.of();
            }
            List<Located<String>> out = new ArrayList<>();
            for (ConfigValue element : c.getList(key)) {
                if (element.valueType() != ConfigValueType.STRING && element.valueType() != ConfigValueType.NUMBER) {
                    problems.add(element.origin(), path + "." + key, "expected a string, found " + element.valueType().name().toLowerCase());
                } else {
                    out.add(new Located<>(String.valueOf(element.unwrapped()), element.origin()));
                }
            }
            return out;
        }

        private <E extends Enum<E>> E enumValue(Config c, String path, String key, Class<E> type, E fallback) {
            String text = string(c, path, key, null);
            if (text == null) {
                return fallback;
            }
            List<String> names = new ArrayList<>();
            for (E e : type.getEnumConstants()) {
                String name = e.name().toLowerCase().replace('_', '-');
                names.add(name);
                if (name.equals(text.trim().toLowerCase())) {
                    return e;
                }
            }
            problems.add(c.getValue(key).origin(), path + "." + key, "\"" + text + "\" is not one of " + String.join(" | ", names));
            return fallback;
        }

        private int intIn(Config c, String path, String key, int min, int max, int fallback) {
            try {
                int value = c.getInt(key);
                if (value < min || value > max) {
                    problems.add(c.getValue(key).origin(), path + "." + key, value + " is not within " + min + ".." + max);
                    return fallback;
                }
                return value;
            } catch (ConfigException.WrongType e) {
                problems.add(c.getValue(key).origin(), path + "." + key, "expected a whole number from " + min + " to " + max);
                return fallback;
            }
        }

        private Duration duration(Config c, String path, String key, Duration fallback) {
            try {
                Duration d = c.getDuration(key);
                if (d.isNegative()) {
                    problems.add(c.getValue(key).origin(), path + "." + key, "must not be negative");
                    return fallback;
                }
                return d;
            } catch (ConfigException.BadValue | ConfigException.WrongType e) {
                problems.add(c.getValue(key).origin(), path + "." + key, "expected a duration such as 500ms, 5s or 31m");
                return fallback;
            }
        }

        private Duration positiveDuration(Config c, String path, String key) {
            Duration d = duration(c, path, key, null);
            if (d != null && d.isZero()) {
                problems.add(c.getValue(key).origin(), path + "." + key, "must be longer than zero");
                return null;
            }
            return d;
        }
    }
}
