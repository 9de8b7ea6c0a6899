package io.mailproxy.it.readme;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import io.mailproxy.dovecot.DovecotTarget;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A newcomer's path: the README's first command, {@code bin/mailproxy demo}, run as written from a
 * checkout, then the IMAPS command it prints, then a stop that leaves nothing behind. In the runs of
 * other Dovecot targets the same with {@code --dovecot <target>} (2.4 in containers is
 * {@code bin/mailproxy demo --dovecot 2.4}); and without a Docker engine, that command says so.
 */
@Tag("dovecot")
class DemoCommandTest {

    private static final Path ROOT = Path.of("").toAbsolutePath().getParent();

    @Test
    void demoServesImapsAndCleansUpOnStop() throws Exception {
        assertTrue(Files.isExecutable(ROOT.resolve("bin/mailproxy")), "run from the it-tests module of a checkout");
        List<Path> before = demoDirs();
        DovecotTarget target = DovecotTarget.current();
        List<String> command = new ArrayList<>(List.of(ROOT.resolve("bin/mailproxy").toString(), "demo"));
        if (!target.equals(DovecotTarget.DEFAULT)) {
            command.addAll(List.of("--dovecot", target.toString()));
        }
        Process demo = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true).start();
        List<String> output = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> readLines(demo, output), "demo-output");
        reader.start();
        try {
            // A bound, not a wait: the first run of a container target may build its image.
            awaitLine(output, Pattern.compile("mailproxy demo is running: two Dovecot " + target.version().label() + "\\."),
                    300, demo);
            assertTrue(output.stream().anyMatch(l -> l.contains("openssl s_client -quiet -connect 127.0.0.1:9993")),
                    "the demo prints the command to try");

            String imap = sClient(9993, "a LOGIN demo demo\r\n", "a SELECT INBOX\r\n", "a LOGOUT\r\n");
            assertTrue(imap.contains("Dovecot ready"), imap);
            assertTrue(imap.contains("a OK [CAPABILITY"), "LOGIN succeeds through the demo: " + imap);
            String pop3 = sClient(9995, "USER demo\r\n", "PASS demo\r\n", "STAT\r\n", "QUIT\r\n");
            assertTrue(pop3.contains("+OK Logged in."), pop3);
            awaitLine(output, Pattern.compile("imaps~ imap-pool/dc[12] .* -- .* ok"), 10, demo);
        } finally {
            // kill(1), not Process.destroy(), which would also close our end of the demo's output.
            // bin/mailproxy execs java, so the launcher's pid is the JVM's.
            new ProcessBuilder("kill", "-TERM", Long.toString(demo.pid())).start().waitFor();
        }
        assertTrue(demo.waitFor(30, TimeUnit.SECONDS), "SIGTERM stops the demo");
        assertTrue(output.stream().anyMatch(l -> l.contains("demo: stopping")), String.join("\n", output));
        reader.join(5000);
        assertEquals(143, demo.exitValue(), String.join("\n", output));
        assertFalse(output.stream().anyMatch(l -> l.contains("Exception") || l.startsWith("\tat ")),
                "no stack trace: " + String.join("\n", output));

        assertEquals(before, demoDirs(), "the demo removes its temporary files");
        Process dovecots = target.runtime() == DovecotTarget.Runtime.PROCESS
                ? new ProcessBuilder("pgrep", "-f", "dovecot -F -c /tmp/dc-dc").start()
                : new ProcessBuilder("docker", "ps", "-q", "--filter", "label=io.mailproxy.dovecot-harness=dc1",
                        "--filter", "label=io.mailproxy.dovecot-harness=dc2").start();
        assertTrue(dovecots.waitFor(30, TimeUnit.SECONDS));
        assertEquals("", new String(dovecots.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim(),
                "no demo Dovecot is left running");
    }

    /** {@code --dovecot 2.4} needs a Docker engine; where none answers, the demo says so and fails. */
    @Test
    void demoWithDovecot24SaysWhenDockerIsMissing() throws Exception {
        ProcessBuilder pb = new ProcessBuilder(ROOT.resolve("bin/mailproxy").toString(), "demo", "--dovecot", "2.4")
                .directory(ROOT.toFile()).redirectErrorStream(true);
        pb.environment().put("DOCKER_HOST", "unix:///nonexistent/docker.sock");
        Process demo = pb.start();
        String output = new String(demo.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(demo.waitFor(60, TimeUnit.SECONDS), output);
        assertEquals(1, demo.exitValue(), output);
        assertTrue(output.contains("demo: Dovecot 2.4 runs in containers here, and it cannot: no Docker engine answers"),
                output);
        assertTrue(output.contains("run the default demo (Dovecot 2.3 as local processes): bin/mailproxy demo"), output);
    }

    private static List<Path> demoDirs() throws IOException {
        try (var tmp = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return tmp.filter(p -> p.getFileName().toString().startsWith("mailproxy-demo-")).sorted().toList();
        }
    }

    /** {@code openssl s_client -quiet -connect 127.0.0.1:PORT}, typing the lines slowly as a person would. */
    private static String sClient(int port, String... lines) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("openssl", "s_client", "-quiet", "-connect", "127.0.0.1:" + port)
                .redirectErrorStream(true).start();
        try (OutputStream in = p.getOutputStream()) {
            Thread.sleep(700);
            for (String line : lines) {
                in.write(line.getBytes(StandardCharsets.US_ASCII));
                in.flush();
                Thread.sleep(300);
            }
            Thread.sleep(500);
        }
        assertTrue(p.waitFor(15, TimeUnit.SECONDS), "s_client ends after the server closes");
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    private static void readLines(Process p, List<String> sink) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                sink.add(line);
            }
        } catch (IOException e) {
            sink.add("(output closed: " + e.getMessage() + ")");
        }
    }

    private static void awaitLine(List<String> output, Pattern pattern, int seconds, Process demo)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline && demo.isAlive()) {
            if (output.stream().anyMatch(l -> pattern.matcher(l).find())) {
                return;
            }
            Thread.sleep(100);
        }
        Thread.sleep(200);
        if (output.stream().anyMatch(l -> pattern.matcher(l).find())) {
            return;
        }
        throw new AssertionError("no line matching " + pattern + (demo.isAlive() ? " within " + seconds + " s" : "; the demo exited")
                + ":\n" + String.join("\n", output));
    }
}
