package io.mailproxy.dovecot;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/** Reads a Dovecot {@code log_path} file, which Dovecot's log process appends to while we read. */
final class DovecotLog {

    private static final Duration POLL = Duration.ofMillis(50);

    private final Path file;

    DovecotLog(Path file) {
        this.file = file;
    }

    Path file() {
        return file;
    }

    /** All complete lines written so far; empty before Dovecot created the file. */
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

    long count(Pattern pattern) {
        return lines().stream().filter(l -> pattern.matcher(l).find()).count();
    }

    long awaitCount(Pattern pattern, long atLeast, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long n = count(pattern);
            if (n >= atLeast) {
                return n;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new DovecotException(n + " line(s) matching /" + pattern + "/ in " + file + " after "
                        + timeout.toMillis() + " ms, expected at least " + atLeast + "; last lines:\n" + tail(20));
            }
            pause(pattern);
        }
    }

    String await(Pattern pattern, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (String line : lines()) {
                if (pattern.matcher(line).find()) {
                    return line;
                }
            }
            if (System.nanoTime() - deadline > 0) {
                throw new DovecotException("no line matching /" + pattern + "/ in " + file + " within "
                        + timeout.toMillis() + " ms; last lines:\n" + tail(20));
            }
            pause(pattern);
        }
    }

    private void pause(Pattern pattern) {
        try {
            Thread.sleep(POLL.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DovecotException("interrupted while waiting for /" + pattern + "/ in " + file, e);
        }
    }

    String tail(int count) {
        List<String> lines = lines();
        List<String> last = lines.subList(Math.max(0, lines.size() - count), lines.size());
        return last.isEmpty() ? "(" + file + " is empty)" : String.join("\n", last);
    }
}
