package io.mailproxy.it;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a real client program (openssl s_client, swaks) to completion: its output goes to a file so
 * that a chatty program never blocks on a full pipe.
 */
public final class ExternalClient {

    /** What the program did. */
    public record Result(int exitCode, String output) {
    }

    private ExternalClient() {
    }

    /**
     * Runs {@code command}, writes each of {@code stdinLines} (CRLF-terminated) to its input with a
     * short pause in between, then closes the input and waits for the program to exit.
     *
     * <p>The pause matters for {@code openssl s_client}: it reads its input in a loop with the
     * socket, and lines that arrive while the handshake is still running are sent in one burst at
     * best; pacing them makes the exchange look like a person at a terminal.
     */
    public static Result run(Path workDir, List<String> command, List<String> stdinLines, Duration timeout) {
        Path output = workDir.resolve("client-" + System.nanoTime() + ".out");
        Process process;
        try {
            process = new ProcessBuilder(command)
                    .directory(workDir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        }
        try {
            try (OutputStream in = process.getOutputStream()) {
                for (String line : stdinLines) {
                    Thread.sleep(300);
                    in.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
                    in.flush();
                }
            } catch (IOException e) {
                // The program exited early (or closed its input): its output says why.
            }
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                throw new AssertionError(command.get(0) + " did not exit within " + timeout + "; output:\n" + read(output));
            }
            return new Result(process.exitValue(), read(output));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new AssertionError("interrupted while running " + command, e);
        }
    }

    private static String read(Path file) {
        try {
            // Not readString: a client may print bytes that are not UTF-8, which must not fail the test.
            return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}
