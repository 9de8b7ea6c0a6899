package io.mailproxy.dovecot;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Dovecot's log as lines, read while Dovecot writes it: a {@code log_path} file (local processes)
 * or the lines a container prints (Dovecot logs to stderr there), kept in memory.
 */
abstract class DovecotLog {

    private static final Duration POLL = Duration.ofMillis(50);

    /** All complete lines written so far. */
    abstract List<String> lines();

    /** Where the lines come from, for messages. */
    abstract String source();

    /** A {@code log_path} file that Dovecot's log process appends to. */
    static FileLog file(Path file) {
        return new FileLog(file);
    }

    /**
     * Lines handed in one by one, as a container's output arrives; each is also printed to
     * {@code echo} (when not null) after {@code prefix}.
     */
    static StreamLog stream(String source, PrintStream echo, String prefix) {
        return new StreamLog(source, echo, prefix);
    }

    final long awaitCount(Pattern pattern, long atLeast, Duration timeout) {
        long[] n = new long[1];
        await(lines -> (n[0] = lines.stream().filter(l -> pattern.matcher(l).find()).count()) >= atLeast, timeout,
                () -> n[0] + " line(s) matching /" + pattern + "/ after " + timeout.toMillis() + " ms, expected at least "
                        + atLeast);
        return n[0];
    }

    final String await(Pattern pattern, Duration timeout) {
        String[] found = new String[1];
        await(lines -> {
            for (String line : lines) {
                if (pattern.matcher(line).find()) {
                    found[0] = line;
                    return true;
                }
            }
            return false;
        }, timeout, () -> "no line matching /" + pattern + "/ within " + timeout.toMillis() + " ms");
        return found[0];
    }

    /** Polls the lines until {@code done} holds; the log's own pace decides, so polling is all there is. */
    private void await(Predicate<List<String>> done, Duration timeout, Supplier<String> failure) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.test(lines())) {
            if (System.nanoTime() - deadline > 0) {
                throw new DovecotException(failure.get() + " in " + source() + "; last lines:\n" + tail(20));
            }
            try {
                Thread.sleep(POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DovecotException("interrupted while waiting on " + source(), e);
            }
        }
    }

    final String tail(int count) {
        List<String> lines = lines();
        List<String> last = lines.subList(Math.max(0, lines.size() - count), lines.size());
        return last.isEmpty() ? "(" + source() + " is empty)" : String.join("\n", last);
    }

    /** A file Dovecot appends to; it exists once the log process has written its first line. */
    static final class FileLog extends DovecotLog {
        private final Path file;

        private FileLog(Path file) {
            this.file = file;
        }

        Path file() {
            return file;
        }

        @Override
        List<String> lines() {
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(file);
            } catch (NoSuchFileException e) {
                return List.of();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file, e);
            }
            // Decoding leniently: user names and mail headers can carry bytes that are not UTF-8.
            String text = new String(bytes, StandardCharsets.UTF_8);
            int end = text.lastIndexOf('\n');
            // A line without its newline is still being written; callers see it on the next poll.
            return end < 0 ? List.of() : List.of(text.substring(0, end).split("\n", -1));
        }

        @Override
        String source() {
            return file.toString();
        }
    }

    /** Lines kept in memory; thread-safe: a container's output arrives on Testcontainers' threads. */
    static final class StreamLog extends DovecotLog {
        private final String source;
        private final PrintStream echo;
        private final String prefix;
        private final List<String> lines = new ArrayList<>();

        private StreamLog(String source, PrintStream echo, String prefix) {
            this.source = source;
            this.echo = echo;
            this.prefix = prefix;
        }

        void add(String line) {
            synchronized (lines) {
                lines.add(line);
            }
            if (echo != null) {
                echo.println(prefix + line);
            }
        }

        /** Forgets every line: a failed start's lines must not be read as the next attempt's. */
        void clear() {
            synchronized (lines) {
                lines.clear();
            }
        }

        @Override
        List<String> lines() {
            synchronized (lines) {
                return List.copyOf(lines);
            }
        }

        @Override
        String source() {
            return source;
        }
    }
}
