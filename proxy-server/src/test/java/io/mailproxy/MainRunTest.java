package io.mailproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mailproxy run} in a child JVM: it starts, serves, and stops cleanly on SIGTERM. */
class MainRunTest {

    @TempDir
    Path dir;

    @Test
    void sigtermClosesListenersAndLogsTheStop() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        Path config = Files.writeString(dir.resolve("run.conf"), """
                mailproxy {
                  run-as-root = true
                  frontends { imap { bind = ["127.0.0.1:%d"], backend = pool } }
                  backends { pool { servers = [ { name = s1, address = "127.0.0.1:9" } ] } }
                }
                """.formatted(port));
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "run", "--config", config.toString())
                .redirectErrorStream(true).start();
        List<String> lines = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("(output closed)");
            }
        });
        reader.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (lines.stream().noneMatch(l -> l.contains("mailproxy started")) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(lines.stream().anyMatch(l -> l.contains("mailproxy started")), String.join("\n", lines));
            try (Socket client = new Socket("127.0.0.1", port)) {
                // No server behind it: the client reads IMAP's refusal, so the listener is really up.
                String reply = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.US_ASCII)).readLine();
                assertTrue(reply.startsWith("* BYE [UNAVAILABLE]"), reply);
            }
        } finally {
            // kill(1), not Process.destroy(): destroy also closes our end of the child's output,
            // and the lines logged while stopping would be lost to the test.
            new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).start().waitFor();
        }
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        reader.join(5000);
        assertEquals(143, p.exitValue(), "SIGTERM ends the JVM as signalled");
        assertTrue(lines.stream().anyMatch(l -> l.endsWith("INFO Main: stopped")), String.join("\n", lines));
        assertFalse(lines.stream().anyMatch(l -> l.startsWith("\tat ") || l.contains("Exception")), String.join("\n", lines));
        try (Socket after = new Socket()) {
            assertFalse(connects(after, port), "the listener is gone after the stop");
        }
    }

    private static boolean connects(Socket s, int port) {
        try {
            s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
