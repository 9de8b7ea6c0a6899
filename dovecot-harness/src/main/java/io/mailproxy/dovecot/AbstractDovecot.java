package io.mailproxy.dovecot;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What both runtimes share: the base directory, the configuration, the start with its retries on a
 * taken port, the readiness probes, the log and the life cycle. A runtime says how to start the
 * master, how to end it and where its log is.
 *
 * <p>Threading: {@link #stop}, {@link #kill}, {@link #restart} and {@link #close} are synchronized
 * (the JVM runs shutdown hooks concurrently, and a demo's hook and this class's may close the same
 * instance at once); the log may be read from any thread.
 */
abstract class AbstractDovecot implements Dovecot {

    static final String CONFIG_FILE = "dovecot.conf";
    static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);

    /** sun_path is 108 bytes on Linux; the longest name Dovecot puts under base_dir is shorter than this. */
    private static final int MAX_SOCKET_PATH = 107;
    private static final int LONGEST_SOCKET_NAME = 40;
    private static final int START_ATTEMPTS = 3;
    /** How the master reports a taken port (2.3 and 2.4 alike). */
    private static final Pattern PORT_TAKEN = Pattern.compile("listen\\([^,]+, (\\d+)\\) failed: Address already in use");
    private static final Set<AbstractDovecot> RUNNING = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> List.copyOf(RUNNING).forEach(AbstractDovecot::close),
                "dovecot-shutdown"));
    }

    private final DovecotOptions options;
    private final DovecotPorts ports;
    private final Path baseDir;
    private final boolean ownsBaseDir;

    AbstractDovecot(DovecotOptions options, DovecotPorts ports, Path baseDir, boolean ownsBaseDir) {
        this.options = options;
        this.ports = ports;
        this.baseDir = baseDir;
        this.ownsBaseDir = ownsBaseDir;
    }

    /** Where a new instance lives and on which ports: the runtime builds its instance from this. */
    record Placement(DovecotOptions options, DovecotPorts ports, Path baseDir, boolean ownsBaseDir) {
    }

    /**
     * Creates the base directory, then creates and boots instances until one starts: a port picked
     * free can be taken by another process before Dovecot binds it, and then new ports are tried.
     *
     * @param mail the account that owns the homes
     */
    static <T extends AbstractDovecot> T start(DovecotOptions options, ProcessUser mail, Function<Placement, T> create) {
        InetAddress listen = resolve(options.listenAddress());
        boolean ownsBaseDir = options.baseDir() == null;
        Path baseDir = ownsBaseDir ? createTempDir(options.name()) : options.baseDir().toAbsolutePath();
        try {
            prepareDirectories(baseDir, mail);
            DovecotException last = null;
            for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
                T dovecot = create.apply(new Placement(options, options.ports().resolve(listen), baseDir, ownsBaseDir));
                try {
                    dovecot.boot();
                    return dovecot;
                } catch (PortTakenException e) {
                    // Worth retrying only when the taken port was one we picked.
                    last = e;
                    if (!options.ports().isFree(e.role)) {
                        break;
                    }
                }
            }
            throw last;
        } catch (RuntimeException e) {
            if (ownsBaseDir) {
                DovecotImages.deleteTree(baseDir);
            }
            throw e;
        }
    }

    /** Writes the configuration, starts the master and waits for the listeners; stops it again on a failure. */
    final void boot() {
        try {
            Files.writeString(configFile(), config().render());
        } catch (IOException e) {
            throw new DovecotException("cannot write " + configFile() + ": " + e.getMessage(), e);
        }
        clearLog();
        startMaster();
    }

    /** Starts the master and waits for the listeners; kills it again on a failure. */
    private void startMaster() {
        RUNNING.add(this);
        try {
            launch();
            awaitListeners();
        } catch (RuntimeException e) {
            kill();
            throw e;
        }
    }

    /** This instance's configuration, as its runtime needs it written. */
    abstract DovecotConfig config();

    /** Starts the master; returns once it runs (a container: once it logged that it starts up). */
    abstract void launch();

    /** Whether the master is alive. */
    abstract boolean masterAlive();

    /**
     * Ends the master and every Dovecot process: politely (SIGTERM, waiting for the exit) or at once
     * (SIGKILL). Returns when they are gone.
     */
    abstract void terminate(boolean kill);

    abstract DovecotLog log();

    /** Forgets the log of a failed earlier attempt, so that its "port in use" lines are not read again. */
    abstract void clearLog();

    /** What the master printed besides its log, for a failed start; empty when nothing. */
    String masterOutput() {
        return "";
    }

    /**
     * Probes every listener until each answers with its greeting ({@link DovecotProbe}), failing
     * fast when the master dies (with the port it could not bind, when that was why).
     */
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
        while (true) {
            if (!masterAlive()) {
                String why = describe();
                Matcher taken = PORT_TAKEN.matcher(why);
                if (taken.find()) {
                    int port = Integer.parseInt(taken.group(1));
                    throw new PortTakenException(ports.role(port), "Dovecot '" + name() + "' could not listen on port "
                            + port + " (" + ports.role(port) + "), it is in use:\n" + why);
                }
                throw new DovecotException("Dovecot '" + name() + "' (" + target() + ") exited during startup:\n" + why);
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
                throw new DovecotException("Dovecot '" + name() + "' (" + target() + ") did not answer on every port"
                        + " within " + options.startTimeout().toMillis() + " ms: " + pending.values() + "\n" + describe());
            }
            pause(Duration.ofMillis(100));
        }
    }

    /** The master's own output and the end of the log: where Dovecot explains a failed start. */
    final String describe() {
        String out = masterOutput().strip();
        return (out.isEmpty() ? "" : "master output:\n" + out + "\n") + "log (last lines):\n" + log().tail(20);
    }

    @Override
    public synchronized void stop() {
        RUNNING.remove(this);
        terminate(false);
    }

    @Override
    public synchronized void kill() {
        RUNNING.remove(this);
        terminate(true);
    }

    @Override
    public synchronized void restart() {
        terminate(false);
        startMaster();
    }

    @Override
    public synchronized void close() {
        // At the end nothing needs Dovecot's polite shutdown, which takes it 2 to 6 seconds.
        kill();
        if (ownsBaseDir) {
            DovecotImages.deleteTree(baseDir);
        }
    }

    @Override
    public String name() {
        return options.name();
    }

    @Override
    public DovecotTarget target() {
        return options.target();
    }

    @Override
    public DovecotOptions options() {
        return options;
    }

    @Override
    public DovecotPorts ports() {
        return ports;
    }

    @Override
    public Path baseDir() {
        return baseDir;
    }

    @Override
    public Path configFile() {
        return baseDir.resolve(CONFIG_FILE);
    }

    @Override
    public List<String> logLines() {
        return log().lines();
    }

    @Override
    public String awaitLog(Pattern pattern, Duration timeout) {
        return log().await(pattern, timeout);
    }

    @Override
    public long awaitLogCount(Pattern pattern, long atLeast, Duration timeout) {
        return log().awaitCount(pattern, atLeast, timeout);
    }

    @Override
    public String toString() {
        return "Dovecot[" + name() + " " + target() + " " + listenAddress() + " " + ports + " in " + baseDir + "]";
    }

    /** A self-signed certificate in the base directory, for 2.4's {@code ssl = required}; null when not needed. */
    final DovecotConfig.CertificatePair certificateIfNeeded() {
        if (!DovecotConfig.needsCertificate(options)) {
            return null;
        }
        Path dir = baseDir.resolve("tls");
        DovecotConfig.CertificatePair pair = new DovecotConfig.CertificatePair(dir.resolve("cert.pem"), dir.resolve("key.pem"));
        if (!Files.exists(pair.key())) {
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create " + dir, e);
            }
            Commands.run(List.of("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-days", "30", "-subj", "/CN=localhost", "-keyout", pair.key().toString(),
                    "-out", pair.cert().toString()));
        }
        return pair;
    }

    static void pause(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DovecotException("interrupted", e);
        }
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

    private static void prepareDirectories(Path baseDir, ProcessUser mail) {
        Path run = baseDir.resolve("run");
        if (run.toString().length() + 1 + LONGEST_SOCKET_NAME > MAX_SOCKET_PATH) {
            throw new DovecotException("base directory " + baseDir + " is too long: Dovecot's unix sockets under "
                    + run + " must fit in " + MAX_SOCKET_PATH + " bytes; use a shorter path");
        }
        try {
            Files.createDirectories(baseDir);
            Path home = Files.createDirectories(baseDir.resolve("home"));
            if (ProcessUser.current().isRoot()) {
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

    /** Dovecot exited because one of its ports was in use. */
    private static final class PortTakenException extends DovecotException {
        private static final long serialVersionUID = 1L;

        /** Which listener could not bind, as named by {@link DovecotPorts#role(int)}. */
        final String role;

        PortTakenException(String role, String message) {
            super(message);
            this.role = role;
        }
    }
}
