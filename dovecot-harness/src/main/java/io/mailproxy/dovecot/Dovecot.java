package io.mailproxy.dovecot;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real Dovecot 2.3 instance on loopback, with its configuration, sockets, log and mail in one
 * directory, run as a child process of this JVM.
 *
 * <p>Every protocol has a plain listener and a {@code haproxy = yes} listener. Any user name logs
 * in with the configured password (static passdb); mail is stored as maildir under
 * {@code <base>/home/<user without domain>}, so LMTP to {@code carol@example.com} is read over IMAP
 * as {@code carol}.
 *
 * <pre>{@code
 * try (Dovecot dc = Dovecot.start(Dovecot.Options.builder().name("dc1").build())) {
 *     int port = dc.ports().imapHaproxy();
 *     ...
 *     dc.awaitLog(Pattern.compile("Login: user=<alice>.*rip=127\\.0\\.0\\.2"), Duration.ofSeconds(5));
 * }
 * }</pre>
 *
 * <p>Instances are independent and may be started in parallel. Instances still running when the JVM
 * exits normally are closed by a shutdown hook; a JVM killed with SIGKILL leaves them running.
 * Readiness probes leave one user-less session per listener in the log, with
 * {@code rip=<listen address>}: match on a client address or user name, not on counts of all lines.
 */
public final class Dovecot implements AutoCloseable {

    static final String LOG_FILE = "dovecot.log";
    static final String CONFIG_FILE = "dovecot.conf";
    /** stdout and stderr of the master: configuration errors appear here before the log file exists. */
    static final String OUTPUT_FILE = "dovecot.out";

    /** sun_path is 108 bytes on Linux; the longest name Dovecot puts under base_dir is shorter than this. */
    private static final int MAX_SOCKET_PATH = 107;
    private static final int LONGEST_SOCKET_NAME = 40;
    private static final int START_ATTEMPTS = 3;
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    /** How the 2.3 master reports a taken port, on stdout and in the log. */
    private static final Pattern PORT_TAKEN = Pattern.compile("listen\\([^,]+, (\\d+)\\) failed: Address already in use");

    private static final Set<Dovecot> RUNNING = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> List.copyOf(RUNNING).forEach(Dovecot::close),
                "dovecot-shutdown"));
    }

    private final Options options;
    private final Ports ports;
    private final Path baseDir;
    private final boolean ownsBaseDir;
    private final String version;
    private final DovecotLog log;
    private final Process process;

    private Dovecot(Options options, Ports ports, Path baseDir, boolean ownsBaseDir, String version, Process process) {
        this.options = options;
        this.ports = ports;
        this.baseDir = baseDir;
        this.ownsBaseDir = ownsBaseDir;
        this.version = version;
        this.log = new DovecotLog(baseDir.resolve(LOG_FILE));
        this.process = process;
    }

    /**
     * Writes the configuration, starts {@code dovecot -F -c <file>} and returns once every listener
     * answers with its greeting.
     *
     * @throws DovecotException if Dovecot is missing or not 2.3, or does not come up in
     *         {@link Options#startTimeout()}; the message carries the last lines of its log
     */
    public static Dovecot start(Options options) {
        DovecotBinary binary = DovecotBinary.require();
        InetAddress listen = resolve(options.listenAddress());
        ProcessUser runAs = ProcessUser.current();
        ProcessUser mail = runAs.isRoot() ? ProcessUser.named(ProcessUser.ROOT_MAIL_USER) : runAs;
        boolean ownsBaseDir = options.baseDir() == null;
        Path baseDir = ownsBaseDir ? createTempDir(options.name()) : options.baseDir().toAbsolutePath();
        try {
            prepareDirectories(baseDir, runAs, mail);
            DovecotException last = null;
            for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
                Ports ports = options.ports().resolve(listen);
                try {
                    return launch(binary, options, ports, baseDir, ownsBaseDir, runAs, mail);
                } catch (PortTakenException e) {
                    // Another process took a port between our probe and Dovecot's bind: worth
                    // retrying only when that port was one we picked.
                    last = e;
                    if (!options.ports().isFree(e.port)) {
                        break;
                    }
                }
            }
            throw last;
        } catch (RuntimeException e) {
            if (ownsBaseDir) {
                deleteTree(baseDir);
            }
            throw e;
        }
    }

    /** True when a Dovecot 2.3 binary is installed; {@link #unavailableReason()} says why not. */
    public static boolean available() {
        return unavailableReason() == null;
    }

    /** Null when Dovecot 2.3 is installed, otherwise what is wrong and the command that fixes it. */
    public static String unavailableReason() {
        try {
            DovecotBinary.require();
            return null;
        } catch (DovecotException e) {
            return e.getMessage();
        }
    }

    private static Dovecot launch(DovecotBinary binary, Options options, Ports ports, Path baseDir,
                                  boolean ownsBaseDir, ProcessUser runAs, ProcessUser mail) {
        Path config = baseDir.resolve(CONFIG_FILE);
        Path output = baseDir.resolve(OUTPUT_FILE);
        try {
            Files.writeString(config, DovecotConfig.render(options, ports, baseDir, runAs, mail));
            Files.deleteIfExists(baseDir.resolve(LOG_FILE));
        } catch (IOException e) {
            throw new DovecotException("cannot write " + config + ": " + e.getMessage(), e);
        }
        Process process;
        try {
            // -F keeps the master in the foreground: it stays our child, so we can stop and reap it.
            process = new ProcessBuilder(binary.executable().toString(), "-F", "-c", config.toString())
                    .directory(baseDir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
        } catch (IOException e) {
            throw new DovecotException("cannot run " + binary.executable() + ": " + e.getMessage(), e);
        }
        Dovecot dovecot = new Dovecot(options, ports, baseDir, ownsBaseDir, binary.version(), process);
        RUNNING.add(dovecot);
        try {
            dovecot.awaitListeners();
            return dovecot;
        } catch (RuntimeException e) {
            dovecot.stop();
            throw e;
        }
    }

    private void awaitListeners() {
        InetAddress listen = resolve(options.listenAddress());
        Map<Integer, String> pending = new LinkedHashMap<>();
        Map<Integer, DovecotProbe.Protocol> protocols = Map.of(
                ports.imap(), DovecotProbe.Protocol.IMAP, ports.imapHaproxy(), DovecotProbe.Protocol.IMAP,
                ports.pop3(), DovecotProbe.Protocol.POP3, ports.pop3Haproxy(), DovecotProbe.Protocol.POP3,
                ports.lmtp(), DovecotProbe.Protocol.LMTP, ports.lmtpHaproxy(), DovecotProbe.Protocol.LMTP);
        Set<Integer> haproxy = Set.of(ports.imapHaproxy(), ports.pop3Haproxy(), ports.lmtpHaproxy());
        ports.all().forEach(p -> pending.put(p, "not tried"));
        long deadline = System.nanoTime() + options.startTimeout().toNanos();
        while (!pending.isEmpty()) {
            if (!process.isAlive()) {
                String why = describe();
                Matcher taken = PORT_TAKEN.matcher(why);
                if (taken.find()) {
                    int port = Integer.parseInt(taken.group(1));
                    throw new PortTakenException(ports.role(port), "Dovecot '" + options.name()
                            + "' could not listen on port " + port + " (" + ports.role(port) + "), it is in use:\n" + why);
                }
                throw new DovecotException("Dovecot '" + options.name() + "' exited with status "
                        + process.exitValue() + " during startup:\n" + why);
            }
            for (Integer port : List.copyOf(pending.keySet())) {
                String problem = DovecotProbe.check(new InetSocketAddress(listen, port), protocols.get(port),
                        haproxy.contains(port));
                if (problem == null) {
                    pending.remove(port);
                } else {
                    pending.put(port, problem);
                }
            }
            if (pending.isEmpty()) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new DovecotException("Dovecot '" + options.name() + "' did not answer on every port within "
                        + options.startTimeout().toMillis() + " ms: " + pending.values() + "\n" + describe());
            }
            sleep(100);
        }
    }

    /** The master's own output and the end of the log: where Dovecot explains a failed start. */
    private String describe() {
        String out;
        try {
            out = Files.readString(baseDir.resolve(OUTPUT_FILE), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            out = "";
        }
        return (out.isEmpty() ? "" : OUTPUT_FILE + ":\n" + out + "\n") + LOG_FILE + " (last lines):\n" + log.tail(20);
    }

    /** Stops Dovecot and waits until the master and all its children have exited. Idempotent. */
    public synchronized void stop() {
        RUNNING.remove(this);
        List<ProcessHandle> children = process.descendants().toList();
        if (process.isAlive()) {
            // SIGTERM: the master stops its services and exits; doveadm would need the same rights.
            process.destroy();
            try {
                if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly().waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
        // Services run as other users may outlive the master by a moment; never leave one behind.
        long deadline = System.nanoTime() + STOP_TIMEOUT.toNanos();
        for (ProcessHandle child : children) {
            while (child.isAlive() && System.nanoTime() - deadline < 0) {
                sleep(20);
            }
            child.destroyForcibly();
        }
    }

    /** Stops Dovecot and deletes the base directory if this launcher created it. */
    @Override
    public synchronized void close() {
        // Synchronized: the JVM runs shutdown hooks concurrently, and a demo's hook and this class's
        // own hook may close the same instance at once.
        stop();
        if (ownsBaseDir) {
            deleteTree(baseDir);
        }
    }

    public boolean isRunning() {
        return process.isAlive();
    }

    public String name() {
        return options.name();
    }

    public Options options() {
        return options;
    }

    /** The ports actually in use (free ports resolved). */
    public Ports ports() {
        return ports;
    }

    public String listenAddress() {
        return options.listenAddress();
    }

    /** The Dovecot version, e.g. {@code 2.3.19.1 (9b53102964)}. */
    public String version() {
        return version;
    }

    public Path baseDir() {
        return baseDir;
    }

    public Path configFile() {
        return baseDir.resolve(CONFIG_FILE);
    }

    public Path logFile() {
        return log.file();
    }

    /** The home directory of a user ({@code carol} and {@code carol@example.com} share one). */
    public Path home(String user) {
        int at = user.indexOf('@');
        return baseDir.resolve("home").resolve(at < 0 ? user : user.substring(0, at));
    }

    /** Every complete line of the log so far. */
    public List<String> logLines() {
        return log.lines();
    }

    /** How many log lines contain a match of the pattern ({@link java.util.regex.Matcher#find()}). */
    public long countLog(Pattern pattern) {
        return log.count(pattern);
    }

    /**
     * Polls the log until a line contains a match and returns the first such line.
     *
     * @throws DovecotException on timeout, with the last lines of the log
     */
    public String awaitLog(Pattern pattern, Duration timeout) {
        return log.await(pattern, timeout);
    }

    /**
     * Polls the log until at least {@code atLeast} lines contain a match; returns the count then.
     * Take a {@link #countLog} before an action and await one more after it.
     *
     * @throws DovecotException on timeout, with the last lines of the log
     */
    public long awaitLogCount(Pattern pattern, long atLeast, Duration timeout) {
        return log.awaitCount(pattern, atLeast, timeout);
    }

    /** The last lines of the log, for assertion messages. */
    public String logTail(int lines) {
        return log.tail(lines);
    }

    @Override
    public String toString() {
        return "Dovecot[" + options.name() + " " + options.listenAddress() + " " + ports + " in " + baseDir + "]";
    }

    private static InetAddress resolve(String address) {
        try {
            return InetAddress.getByName(address);
        } catch (UnknownHostException e) {
            throw new DovecotException("listen address '" + address + "' is not an IP address: " + e.getMessage(), e);
        }
    }

    private static Path createTempDir(String name) {
        // java.io.tmpdir may be long (surefire, macOS); unix socket paths are not allowed to be.
        String tmp = System.getProperty("java.io.tmpdir");
        Path root = tmp != null && tmp.length() < 40 ? Path.of(tmp) : Path.of("/tmp");
        try {
            return Files.createTempDirectory(root, "dc-" + name + "-").toAbsolutePath();
        } catch (IOException e) {
            throw new DovecotException("cannot create a temporary directory in " + root + ": " + e.getMessage(), e);
        }
    }

    private static void prepareDirectories(Path baseDir, ProcessUser runAs, ProcessUser mail) {
        Path run = baseDir.resolve("run");
        if (run.toString().length() + 1 + LONGEST_SOCKET_NAME > MAX_SOCKET_PATH) {
            throw new DovecotException("base directory " + baseDir + " is too long: Dovecot's unix sockets under "
                    + run + " must fit in " + MAX_SOCKET_PATH + " bytes; use a shorter path");
        }
        try {
            Files.createDirectories(baseDir);
            Path home = Files.createDirectories(baseDir.resolve("home"));
            if (runAs.isRoot()) {
                // Temp dirs are 0700; Dovecot's unprivileged services and the mail user must reach
                // the sockets and homes inside, and the mail user creates each user's home.
                Files.setPosixFilePermissions(baseDir, PosixFilePermissions.fromString("rwxr-xr-x"));
                Files.setAttribute(home, "unix:uid", mail.uid());
                Files.setAttribute(home, "unix:gid", mail.gid());
            }
        } catch (IOException | UnsupportedOperationException e) {
            throw new DovecotException("cannot prepare " + baseDir + " for Dovecot: " + e, e);
        }
    }

    static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (var paths = Files.walk(root)) {
            List<Path> all = new ArrayList<>(paths.toList());
            Collections.reverse(all);
            for (Path p : all) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root, e);
        } catch (UncheckedIOException e) {
            if (!(e.getCause() instanceof java.nio.file.NoSuchFileException)) {
                throw e;
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DovecotException("interrupted", e);
        }
    }

    /** Dovecot exited because one of its ports was in use. */
    private static final class PortTakenException extends DovecotException {
        private static final long serialVersionUID = 1L;

        /** Which listener could not bind, as named by {@link Ports#role(int)}. */
        final String port;

        PortTakenException(String port, String message) {
            super(message);
            this.port = port;
        }
    }

    /**
     * The six listeners of an instance. In {@link Options}, 0 means "pick a free port".
     *
     * @param imap plain IMAP, no PROXY header
     * @param imapHaproxy IMAP requiring a PROXY header
     * @param pop3 plain POP3
     * @param pop3Haproxy POP3 requiring a PROXY header
     * @param lmtp plain LMTP
     * @param lmtpHaproxy LMTP requiring a PROXY header
     */
    public record Ports(int imap, int imapHaproxy, int pop3, int pop3Haproxy, int lmtp, int lmtpHaproxy) {

        /** Every port free-picked. */
        public static final Ports FREE = new Ports(0, 0, 0, 0, 0, 0);

        /** Listener names in the order of {@link #all()}. */
        private static final List<String> ROLES =
                List.of("imap", "imapHaproxy", "pop3", "pop3Haproxy", "lmtp", "lmtpHaproxy");

        public Ports {
            // Compact constructor: the fields are not assigned yet, so use the parameters.
            List<Integer> given = List.of(imap, imapHaproxy, pop3, pop3Haproxy, lmtp, lmtpHaproxy);
            for (int p : given) {
                if (p < 0 || p > 65535) {
                    throw new IllegalArgumentException("port " + p + " is not in 0..65535");
                }
            }
            List<Integer> fixed = given.stream().filter(p -> p != 0).toList();
            if (Set.copyOf(fixed).size() != fixed.size()) {
                throw new IllegalArgumentException("ports " + fixed + " must differ from each other");
            }
        }

        public List<Integer> all() {
            return List.of(imap, imapHaproxy, pop3, pop3Haproxy, lmtp, lmtpHaproxy);
        }

        /** The listener a port belongs to: "imap", "imapHaproxy", ..., or "unknown". */
        String role(int port) {
            int i = all().indexOf(port);
            return i < 0 ? "unknown" : ROLES.get(i);
        }

        /** Whether the listener of that role is to get a free-picked port. */
        boolean isFree(String role) {
            int i = ROLES.indexOf(role);
            return i >= 0 && all().get(i) == 0;
        }

        Ports resolve(InetAddress address) {
            return new Ports(pick(imap, address), pick(imapHaproxy, address), pick(pop3, address),
                    pick(pop3Haproxy, address), pick(lmtp, address), pick(lmtpHaproxy, address));
        }

        private static int pick(int port, InetAddress address) {
            return port != 0 ? port : FreePorts.pick(address);
        }
    }

    /**
     * How to run an instance. Build with {@link #builder()}; every field has a default.
     *
     * @param name short label: temp dir prefix, {@code instance_name}, IMAP/POP3 greeting
     * @param baseDir where config, sockets, log and mail go; null for a new temp dir deleted on close
     * @param listenAddress IP address all listeners bind to
     * @param ports listener ports, 0 for a free one
     * @param haproxyTrustedNetworks {@code haproxy_trusted_networks}: who may send a PROXY header
     * @param disablePlaintextAuth {@code disable_plaintext_auth}: refuse LOGIN/USER+PASS on connections
     *        Dovecot does not consider secured
     * @param password the password of every user
     * @param haproxyTimeout {@code haproxy_timeout}, whole seconds
     * @param startTimeout how long {@link #start} waits for the listeners
     */
    public record Options(String name, Path baseDir, String listenAddress, Ports ports,
                          String haproxyTrustedNetworks, boolean disablePlaintextAuth, String password,
                          Duration haproxyTimeout, Duration startTimeout) {

        private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,15}");
        /** The value goes unquoted into a Dovecot config line or the passdb args string. */
        private static final Pattern CONFIG_WORD = Pattern.compile("[^\\s%\"\\\\#{}]+");

        public Options {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(listenAddress, "listenAddress");
            Objects.requireNonNull(ports, "ports");
            Objects.requireNonNull(haproxyTrustedNetworks, "haproxyTrustedNetworks");
            Objects.requireNonNull(password, "password");
            Objects.requireNonNull(haproxyTimeout, "haproxyTimeout");
            Objects.requireNonNull(startTimeout, "startTimeout");
            if (!NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("name '" + name + "' must be 1-16 letters, digits, '_', '.' or '-'");
            }
            if (!CONFIG_WORD.matcher(password).matches()) {
                throw new IllegalArgumentException("password must be non-empty, without spaces, %, quotes, # or braces");
            }
            if (!CONFIG_WORD.matcher(listenAddress).matches()) {
                throw new IllegalArgumentException("listen address '" + listenAddress + "' is not an IP address");
            }
            if (!haproxyTrustedNetworks.matches("[0-9A-Fa-f.:/, ]*")) {
                throw new IllegalArgumentException("haproxyTrustedNetworks '" + haproxyTrustedNetworks
                        + "' must be networks like 127.0.0.0/8, separated by spaces or commas");
            }
            if (haproxyTimeout.toMillis() < 1000 || haproxyTimeout.toMillis() % 1000 != 0) {
                throw new IllegalArgumentException("haproxyTimeout " + haproxyTimeout + " must be whole seconds, >= 1 s");
            }
            if (startTimeout.isNegative() || startTimeout.isZero()) {
                throw new IllegalArgumentException("startTimeout must be positive");
            }
        }

        public static Builder builder() {
            return new Builder();
        }

        public Builder toBuilder() {
            return new Builder().name(name).baseDir(baseDir).listenAddress(listenAddress).ports(ports)
                    .haproxyTrustedNetworks(haproxyTrustedNetworks).disablePlaintextAuth(disablePlaintextAuth)
                    .password(password).haproxyTimeout(haproxyTimeout).startTimeout(startTimeout);
        }

        /** Builds {@link Options}; the initial values are the defaults. */
        public static final class Builder {
            private String name = "dovecot";
            private Path baseDir;
            private String listenAddress = "127.0.0.1";
            private int imap;
            private int imapHaproxy;
            private int pop3;
            private int pop3Haproxy;
            private int lmtp;
            private int lmtpHaproxy;
            private String haproxyTrustedNetworks = "127.0.0.0/8";
            private boolean disablePlaintextAuth = true;
            private String password = "demo";
            private Duration haproxyTimeout = Duration.ofSeconds(3);
            private Duration startTimeout = Duration.ofSeconds(15);

            private Builder() {
            }

            public Builder name(String value) {
                name = value;
                return this;
            }

            /** Null (the default): a new temp dir, deleted by {@link Dovecot#close()}. */
            public Builder baseDir(Path value) {
                baseDir = value;
                return this;
            }

            public Builder listenAddress(String value) {
                listenAddress = value;
                return this;
            }

            public Builder ports(Ports value) {
                imap = value.imap();
                imapHaproxy = value.imapHaproxy();
                pop3 = value.pop3();
                pop3Haproxy = value.pop3Haproxy();
                lmtp = value.lmtp();
                lmtpHaproxy = value.lmtpHaproxy();
                return this;
            }

            public Builder imapPort(int value) {
                imap = value;
                return this;
            }

            public Builder imapHaproxyPort(int value) {
                imapHaproxy = value;
                return this;
            }

            public Builder pop3Port(int value) {
                pop3 = value;
                return this;
            }

            public Builder pop3HaproxyPort(int value) {
                pop3Haproxy = value;
                return this;
            }

            public Builder lmtpPort(int value) {
                lmtp = value;
                return this;
            }

            public Builder lmtpHaproxyPort(int value) {
                lmtpHaproxy = value;
                return this;
            }

            public Builder haproxyTrustedNetworks(String value) {
                haproxyTrustedNetworks = value;
                return this;
            }

            public Builder disablePlaintextAuth(boolean value) {
                disablePlaintextAuth = value;
                return this;
            }

            public Builder password(String value) {
                password = value;
                return this;
            }

            public Builder haproxyTimeout(Duration value) {
                haproxyTimeout = value;
                return this;
            }

            public Builder startTimeout(Duration value) {
                startTimeout = value;
                return this;
            }

            public Options build() {
                return new Options(name, baseDir, listenAddress,
                        new Ports(imap, imapHaproxy, pop3, pop3Haproxy, lmtp, lmtpHaproxy),
                        haproxyTrustedNetworks, disablePlaintextAuth, password, haproxyTimeout, startTimeout);
            }
        }
    }
}
