package io.mailproxy.it.packaging;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * What the package and image tests share: the Debian package built by {@code packaging/build-deb}
 * from a clean copy of this checkout (once per JVM), Debian 12 images made by
 * {@code packaging/debian-base}, and running commands with a bound on each.
 */
final class Packaging {

    /** The checkout: the tests run in its it-tests module. */
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    /** Every container the tests start carries it, so that a killed run's leftovers can be found. */
    static final String LABEL = "io.mailproxy.packaging-test";
    /** mmdebstrap of a new package set on a loaded 2-core machine took up to 6 minutes here. */
    static final Duration BUILD_TIMEOUT = Duration.ofMinutes(20);
    static final Duration SHORT = Duration.ofMinutes(2);

    /**
     * mailproxy's summary line after a SIGHUP that re-read an unchanged file; the tests then require
     * it to keep serving.
     */
    static final Pattern SIGHUP_TAKEN = Pattern.compile("configuration reloaded: no change");

    private static Path deb;

    private Packaging() {
    }

    /** A finished command. */
    record Result(int exitCode, String output) {
        Result ok(String what) {
            if (exitCode != 0) {
                throw new AssertionError(what + " failed (exit " + exitCode + "):\n" + output);
            }
            return this;
        }

        /** The last line of the output: what the packaging scripts print as their result. */
        String lastLine() {
            List<String> lines = output.lines().toList();
            return lines.isEmpty() ? "" : lines.get(lines.size() - 1).trim();
        }
    }

    /**
     * The package, built as a user builds it from a clean checkout: the files git knows here
     * (committed or not, without what .gitignore leaves out, so no target/) copied to a fresh
     * directory, and {@code packaging/build-deb} run there. Maven runs offline: the build running
     * this test has already resolved everything proxy-server needs.
     */
    static synchronized Path deb() {
        if (deb == null) {
            Path checkout = ROOT.resolve("it-tests/target/packaging-test/checkout");
            deleteTree(checkout);
            Result files = run(List.of("git", "-C", ROOT.toString(), "ls-files", "-z", "--cached", "--others",
                    "--exclude-standard"), Map.of(), SHORT).ok("git ls-files");
            for (String file : files.output().split("\0")) {
                Path from = ROOT.resolve(file);
                if (!file.isEmpty() && Files.exists(from, LinkOption.NOFOLLOW_LINKS)) {
                    copy(from, checkout.resolve(file));
                }
            }
            Result built = run(List.of(checkout.resolve("packaging/build-deb").toString()), Map.of("MVN_ARGS", "-o"),
                    BUILD_TIMEOUT).ok("packaging/build-deb in a clean copy of the checkout");
            deb = Path.of(built.lastLine());
            if (!Files.isRegularFile(deb) || !deb.getFileName().toString().matches("mailproxy_.+_all\\.deb")
                    || !deb.startsWith(checkout.resolve("packaging/target"))) {
                throw new AssertionError("build-deb's last line is not packaging/target/mailproxy_<version>_all.deb: "
                        + built.output());
            }
        }
        return deb;
    }

    /** A Debian 12 image with {@code packages}, made (or found in the cache) by packaging/debian-base. */
    static String debianBase(String name, String packages) {
        return run(List.of(ROOT.resolve("packaging/debian-base").toString(), name, packages), Map.of(), BUILD_TIMEOUT)
                .ok("packaging/debian-base " + name).lastLine();
    }

    /** Runs {@code command} to its end (output and errors together), failing the test after {@code timeout}. */
    static Result run(List<String> command, Map<String, String> environment, Duration timeout) {
        try {
            Path output = Files.createTempFile("packaging-test-", ".out");
            try {
                ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
                pb.environment().putAll(environment);
                Process p = pb.start();
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    throw new AssertionError(command + " did not end within " + timeout + ":\n" + Files.readString(output));
                }
                return new Result(p.exitValue(), new String(Files.readAllBytes(output), StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(output);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted running " + command, e);
        }
    }

    /** {@code docker ARGS...}, bounded by {@link #SHORT}. */
    static Result docker(String... args) {
        List<String> command = new ArrayList<>(List.of("docker"));
        command.addAll(List.of(args));
        return run(command, Map.of(), SHORT);
    }

    /** A program running in the background whose output lines are collected as they come. */
    static final class Running {
        private final Process process;
        private final List<String> lines = new CopyOnWriteArrayList<>();
        private final Thread reader;

        Running(List<String> command) {
            try {
                process = new ProcessBuilder(command).redirectErrorStream(true)
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot run " + command, e);
            }
            reader = new Thread(this::read, "packaging-test-output");
            reader.setDaemon(true);
            reader.start();
        }

        private void read() {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("(output closed: " + e.getMessage() + ")");
            }
        }

        /** The first line matching {@code pattern}, waiting for it while the program runs. */
        String awaitLine(Pattern pattern, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                boolean alive = process.isAlive();
                for (String line : lines) {
                    if (pattern.matcher(line).find()) {
                        return line;
                    }
                }
                if (!alive || System.nanoTime() > deadline) {
                    reader.join(2000);
                    throw new AssertionError("no line matching " + pattern + (alive ? " within " + timeout
                            : "; the program ended") + ":\n" + output());
                }
                Thread.sleep(100);
            }
        }

        /** Its exit status, once it has ended within {@code timeout}. */
        int awaitExit(Duration timeout) throws InterruptedException {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("still running after " + timeout + ":\n" + output());
            }
            reader.join(5000);
            return process.exitValue();
        }

        String output() {
            return String.join("\n", lines);
        }

        void destroy() {
            process.destroyForcibly();
        }
    }

    static void deleteTree(Path root) {
        if (Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            run(List.of("rm", "-rf", root.toString()), Map.of(), SHORT).ok("rm -rf " + root);
        }
    }

    private static void copy(Path from, Path to) {
        try {
            Files.createDirectories(to.getParent());
            Files.copy(from, to, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + from + " to " + to, e);
        }
    }
}
