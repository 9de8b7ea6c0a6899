package io.mailproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.session.ProxyRunner;
import io.mailproxy.systemd.NotifySocket;
import io.mailproxy.systemd.ServiceNotifier;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mailproxy run} under a service manager, as the systemd unit's {@code Type=notify} has it: a
 * child JVM with {@code $NOTIFY_SOCKET} says {@code READY=1} once its listener accepts, and
 * {@code STOPPING=1} when SIGTERM stops it; a start that fails says nothing, so systemd reports the
 * start as failed rather than the service as up.
 */
class ReadinessTest {

    /** A cold JVM on a loaded machine, plus the bind. */
    private static final Duration START = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void readyOnceListeningAndStoppingOnSigterm() throws Exception {
        int port = ProxyRunner.freePort();
        try (NotifySocket systemd = NotifySocket.at(dir.resolve("notify"))) {
            Process child = start(systemd, port);
            try {
                String ready = systemd.next(START);
                assertNotNull(ready, "no READY=1 within " + START + ": " + output());
                assertEquals("READY=1\nSTATUS=serving on 1 listener(s)", ready);
                try (Socket client = new Socket()) {
                    client.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                }
                assertEquals(0, new ProcessBuilder("kill", "-TERM", Long.toString(child.pid())).start().waitFor());
                String stopping = systemd.next(START);
                assertTrue(stopping != null && stopping.startsWith("STOPPING=1\nSTATUS=stopping: "), stopping + output());
                assertTrue(child.waitFor(60, TimeUnit.SECONDS), output());
                assertEquals(143, child.exitValue(), output());
            } finally {
                child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /** Negative control: the same start with its port taken fails, and systemd hears nothing. */
    @Test
    void aStartThatFailsIsNeverReady() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"));
             NotifySocket systemd = NotifySocket.at(dir.resolve("notify"))) {
            Process child = start(systemd, taken.getLocalPort());
            try {
                assertTrue(child.waitFor(START.toSeconds(), TimeUnit.SECONDS), output());
                assertEquals(Main.BAD_CONFIG, child.exitValue(), output());
                assertTrue(output().contains("cannot listen on 127.0.0.1:" + taken.getLocalPort()), output());
                // The child has exited: whatever it sent has arrived.
                assertEquals(List.of(), systemd.pending());
            } finally {
                child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private Process start(NotifySocket systemd, int port) throws IOException {
        Path config = Files.writeString(dir.resolve("run.conf"), """
                mailproxy {
                  run-as-root = true
                  frontends { imap { bind = ["127.0.0.1:%d"], backend = pool } }
                  backends { pool { servers = [ { name = s1, address = "127.0.0.1:9" } ] } }
                }
                """.formatted(port));
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "run", "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("output").toFile());
        pb.environment().put(ServiceNotifier.VARIABLE, systemd.name());
        return pb.start();
    }

    private String output() throws IOException {
        return Files.readString(dir.resolve("output"));
    }
}
