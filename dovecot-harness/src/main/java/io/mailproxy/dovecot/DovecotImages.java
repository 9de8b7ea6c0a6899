package io.mailproxy.dovecot;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Dovecot from Debian's packages without an image registry: a root file system built with
 * {@code mmdebstrap --variant=minbase --include=dovecot-core,...} for the release's Debian suite
 * (bookworm for 2.3, trixie for 2.4), kept as a tarball, imported into Docker with
 * {@code docker import} for containers and unpacked for {@code chroot}.
 *
 * <p>Everything is cached by content: the key is a hash of the name and version of every package
 * the build installs, which {@code mmdebstrap --simulate} resolves from the mirror in a few seconds
 * without downloading packages. A warm run finds {@code <suite>-<key>.tar} and the image tagged
 * {@code mailproxy/dovecot:<suite>-<key>} and builds nothing; a Debian update (a new Dovecot or
 * libc) changes the key and builds afresh. When the mirror cannot be reached, the newest tarball of
 * the suite in the cache is used, with a line saying so.
 *
 * <p>The cache is {@code $MAILPROXY_DOVECOT_CACHE}, else {@code /var/cache/mailproxy-dovecot} when
 * writable (root), else {@code ~/.cache/mailproxy-dovecot}. Builds from several JVMs are serialised
 * by a lock file there.
 */
final class DovecotImages {

    static final String PACKAGES = "dovecot-core,dovecot-imapd,dovecot-pop3d,dovecot-lmtpd";
    private static final String REPOSITORY = "mailproxy/dovecot";
    /** What {@code mmdebstrap --simulate --verbose} prints per package: apt's "Inst name (version ...". */
    private static final Pattern INST = Pattern.compile("(?m)^Inst (\\S+) \\((\\S+) ");
    private static final Duration SIMULATE_TIMEOUT = Duration.ofMinutes(3);
    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(20);
    private static final Duration IMPORT_TIMEOUT = Duration.ofMinutes(5);

    private static final Map<DovecotVersion, RootFs> RESOLVED = new ConcurrentHashMap<>();

    /**
     * One built root file system.
     *
     * @param suite the Debian suite, e.g. {@code trixie}
     * @param key the first 16 hex digits of the SHA-256 of its sorted package list
     * @param tarball the mmdebstrap tarball
     */
    record RootFs(String suite, String key, Path tarball) {
        String imageTag() {
            return REPOSITORY + ":" + suite + "-" + key;
        }
    }

    private DovecotImages() {
    }

    /** Null when a root file system of the release can be had here (built or cached), else why not. */
    static String unavailableReason(DovecotVersion version) {
        if (Commands.find("mmdebstrap") != null || newestCached(version.debianSuite()) != null) {
            return null;
        }
        return "building Dovecot " + version.label() + " from Debian " + version.debianSuite()
                + "'s packages needs mmdebstrap: apt-get install -y mmdebstrap";
    }

    /** The Docker image of the release, imported (and its root file system built) when missing. */
    static String image(DovecotVersion version) {
        RootFs fs = rootFs(version);
        return locked(() -> {
            if (Commands.exec(List.of("docker", "image", "inspect", fs.imageTag()), Commands.SHORT, null).ok()) {
                return fs.imageTag();
            }
            log("importing " + fs.tarball() + " as " + fs.imageTag());
            Commands.Result r = Commands.exec(List.of("docker", "import", "--change",
                    "LABEL io.mailproxy.dovecot-harness.packages=" + fs.key(), fs.tarball().toString(), fs.imageTag()),
                    IMPORT_TIMEOUT, null);
            if (!r.ok()) {
                throw new DovecotException("docker import of " + fs.tarball() + " failed: " + r.output());
            }
            return fs.imageTag();
        });
    }

    /** The release's root file system unpacked for chroot (needs root to keep owners and device nodes). */
    static Path rootDirectory(DovecotVersion version) {
        RootFs fs = rootFs(version);
        Path dir = cacheDir().resolve(fs.suite() + "-" + fs.key() + ".rootfs");
        Path complete = cacheDir().resolve(fs.suite() + "-" + fs.key() + ".rootfs.complete");
        return locked(() -> {
            if (Files.exists(complete)) {
                return dir;
            }
            log("unpacking " + fs.tarball() + " into " + dir);
            deleteTree(dir);
            createDirectories(dir);
            Commands.Result r = Commands.exec(List.of("tar", "-xf", fs.tarball().toString(), "-C", dir.toString()),
                    IMPORT_TIMEOUT, null);
            if (!r.ok()) {
                throw new DovecotException("unpacking " + fs.tarball() + " failed: " + r.output());
            }
            write(complete, fs.key() + "\n");
            return dir;
        });
    }

    /** The tarball of the release's current packages: resolved once per JVM, built when not cached. */
    private static RootFs rootFs(DovecotVersion version) {
        return RESOLVED.computeIfAbsent(version, v -> {
            String suite = v.debianSuite();
            String packages;
            try {
                packages = resolvePackages(suite);
            } catch (DovecotException e) {
                RootFs cached = newestCached(suite);
                if (cached == null) {
                    throw e;
                }
                log("cannot resolve Debian " + suite + "'s package versions (" + e.getMessage().lines().findFirst()
                        .orElse("") + "); using the cached " + cached.tarball());
                return cached;
            }
            RootFs fs = new RootFs(suite, key(packages), cacheDir().resolve(suite + "-" + key(packages) + ".tar"));
            return locked(() -> {
                if (!Files.exists(fs.tarball())) {
                    build(fs, packages);
                }
                return fs;
            });
        });
    }

    /** {@code name version} of every package the build would install, sorted, one a line. */
    private static String resolvePackages(String suite) {
        Commands.Result r = Commands.exec(List.of("mmdebstrap", "--simulate", "--verbose", "--variant=minbase",
                "--include=" + PACKAGES, "--format=tar", suite, cacheDir().resolve("simulate.tar").toString()),
                SIMULATE_TIMEOUT, null);
        Matcher m = INST.matcher(r.output());
        TreeSet<String> sorted = new TreeSet<>();
        while (m.find()) {
            sorted.add(m.group(1) + " " + m.group(2));
        }
        StringBuilder lines = new StringBuilder();
        sorted.forEach(l -> lines.append(l).append('\n'));
        if (!r.ok() || !lines.toString().contains("dovecot-core ")) {
            throw new DovecotException("mmdebstrap --simulate for " + suite + " failed (exit " + r.exitCode() + "): "
                    + tail(r.output()));
        }
        return lines.toString();
    }

    private static void build(RootFs fs, String packages) {
        Path partial = fs.tarball().resolveSibling(fs.tarball().getFileName() + ".partial");
        Path buildLog = fs.tarball().resolveSibling(fs.tarball().getFileName() + ".log");
        log("building the Dovecot root file system from Debian " + fs.suite() + "'s packages (about a minute,"
                + " once per package set): " + fs.tarball());
        long started = System.nanoTime();
        Commands.Result r = Commands.exec(List.of("mmdebstrap", "--variant=minbase", "--include=" + PACKAGES,
                "--format=tar", fs.suite(), partial.toString()), BUILD_TIMEOUT, buildLog);
        if (!r.ok()) {
            throw new DovecotException("mmdebstrap for " + fs.suite() + " failed (exit " + r.exitCode() + "), see "
                    + buildLog + ":\n" + tail(r.output()));
        }
        write(fs.tarball().resolveSibling(fs.suite() + "-" + fs.key() + ".packages"), packages);
        try {
            Files.move(partial, fs.tarball(), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move " + partial + " to " + fs.tarball(), e);
        }
        log("built " + fs.tarball() + " in " + (System.nanoTime() - started) / 1_000_000_000 + " s");
    }

    /** The newest {@code <suite>-<key>.tar} in the cache, or null. */
    private static RootFs newestCached(String suite) {
        Pattern name = Pattern.compile(Pattern.quote(suite) + "-([0-9a-f]{16})\\.tar");
        try (Stream<Path> files = Files.list(cacheDir())) {
            return files.filter(p -> name.matcher(p.getFileName().toString()).matches())
                    .max(Comparator.comparing(DovecotImages::modified))
                    .map(p -> {
                        Matcher m = name.matcher(p.getFileName().toString());
                        m.matches();
                        return new RootFs(suite, m.group(1), p);
                    }).orElse(null);
        } catch (IOException e) {
            return null;
        }
    }

    static Path cacheDir() {
        String configured = System.getenv("MAILPROXY_DOVECOT_CACHE");
        Path dir;
        if (configured != null && !configured.isBlank()) {
            dir = Path.of(configured);
        } else if (Files.isWritable(Path.of("/var/cache"))) {
            dir = Path.of("/var/cache/mailproxy-dovecot");
        } else {
            dir = Path.of(System.getProperty("user.home"), ".cache", "mailproxy-dovecot");
        }
        createDirectories(dir);
        return dir;
    }

    private static String key(String packages) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(packages.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** Runs {@code work} holding the cache's lock file: another JVM may be building the same thing. */
    private static synchronized <T> T locked(Supplier<T> work) {
        Path lockFile = cacheDir().resolve(".lock");
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            FileLock lock = channel.lock();
            try {
                return work.get();
            } finally {
                lock.release();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock " + lockFile, e);
        }
    }

    private static long modified(Path p) {
        try {
            return Files.getLastModifiedTime(p).toMillis();
        } catch (IOException e) {
            return 0;
        }
    }

    private static void write(Path file, String text) {
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private static void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
    }

    static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root, e);
        }
    }

    private static String tail(String output) {
        List<String> lines = output.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    }

    private static void log(String line) {
        System.err.println("dovecot-harness: " + line);
    }
}
