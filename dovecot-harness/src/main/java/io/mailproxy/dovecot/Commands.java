package io.mailproxy.dovecot;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the short commands the harness needs (id, openssl, docker, mmdebstrap) and finds programs. */
final class Commands {

    /** Debian installs dovecot, chroot and mmdebstrap's helpers in sbin, not on a normal user's PATH. */
    private static final List<String> EXTRA_DIRS = List.of("/usr/sbin", "/usr/local/sbin", "/sbin");
    static final Duration SHORT = Duration.ofSeconds(30);

    private Commands() {
    }

    /** What a command printed (stdout and stderr together) and how it ended. */
    record Result(int exitCode, String output) {
        boolean ok() {
            return exitCode == 0;
        }
    }

    /** The program's absolute path on PATH or in the sbin directories, or null. */
    static Path find(String name) {
        List<String> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(List.of(path.split(":")));
        }
        dirs.addAll(EXTRA_DIRS);
        for (String dir : dirs) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate.toAbsolutePath();
            }
        }
        return null;
    }

    /** Runs a command to its end and returns its trimmed output; a failure or non-zero exit throws. */
    static String run(List<String> command) {
        Result r = exec(command, SHORT, null);
        if (!r.ok()) {
            throw new DovecotException(String.join(" ", command) + " failed (exit " + r.exitCode() + "): " + r.output());
        }
        return r.output();
    }

    /**
     * Runs a command to its end within {@code timeout}. Its output goes to {@code outputFile} when
     * given (long, chatty commands), otherwise it is returned.
     */
    static Result exec(List<String> command, Duration timeout, Path outputFile) {
        Path program = command.get(0).contains("/") ? Path.of(command.get(0)) : find(command.get(0));
        if (program == null) {
            throw new DovecotException(command.get(0) + " was not found on PATH or in " + EXTRA_DIRS);
        }
        List<String> argv = new ArrayList<>(command);
        argv.set(0, program.toString());
        try {
            Path out = outputFile != null ? outputFile : Files.createTempFile("dovecot-harness-", ".out");
            try {
                Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(out.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                    throw new DovecotException(String.join(" ", command) + " did not finish within "
                            + timeout.toSeconds() + " s");
                }
                String text = new String(Files.readAllBytes(out), StandardCharsets.UTF_8).trim();
                return new Result(p.exitValue(), text);
            } finally {
                if (outputFile == null) {
                    Files.deleteIfExists(out);
                }
            }
        } catch (IOException e) {
            throw new DovecotException("could not run " + String.join(" ", command) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DovecotException("interrupted while running " + String.join(" ", command), e);
        }
    }
}
