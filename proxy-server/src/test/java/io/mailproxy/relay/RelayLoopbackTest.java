package io.mailproxy.relay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.MailProxy;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The relay over real sockets: a plaintext frontend in front of a scripted local backend. */
class RelayLoopbackTest {

    @TempDir
    Path dir;

    @Test
    void clientHalfCloseReachesTheServerWhichStillAnswers() throws Exception {
        try (Loopback.Backend backend = new Loopback.Backend(Loopback::answerAfterFin);
             MailProxy proxy = Loopback.proxy(dir, "", backend.port());
             Loopback.SessionLines log = new Loopback.SessionLines();
             Socket client = Loopback.connect(proxy)) {
            client.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
            client.shutdownOutput();
            // The backend answers only after it has read the FIN, so the answer proves the FIN passed.
            assertEquals("got:hello", new String(Loopback.readAll(client.getInputStream()), StandardCharsets.US_ASCII));
            String line = log.next(5);
            assertNotNull(line, "no session line");
            assertTrue(line.matches(".* plain pool/s1 0/\\d+/\\d+ 9 -- 1/1/1/1/0 0/0 5 ok"), line);
        }
    }

    @Test
    void withoutTheHalfCloseTheServerWaits() throws Exception {
        // Negative control for the test above: the same backend, no FIN from the client, no answer.
        try (Loopback.Backend backend = new Loopback.Backend(Loopback::answerAfterFin);
             MailProxy proxy = Loopback.proxy(dir, "", backend.port());
             Socket client = Loopback.connect(proxy)) {
            client.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
            client.setSoTimeout(500);
            assertThrows(SocketTimeoutException.class, () -> client.getInputStream().read());
        }
    }

    @Test
    void manyMegabytesEchoIntactThroughTheWaterMarks() throws Exception {
        byte[] data = new byte[8 * 1024 * 1024];
        new Random(42).nextBytes(data);
        try (Loopback.Backend backend = new Loopback.Backend(Loopback::echo);
             MailProxy proxy = Loopback.proxy(dir, "", backend.port());
             Loopback.SessionLines log = new Loopback.SessionLines();
             Socket client = Loopback.connect(proxy)) {
            // The client writes everything before it reads: the relay must hold back, not buffer 8 MB
            // or drop bytes, while the reader lags.
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = client.getOutputStream();
                    for (int off = 0; off < data.length; off += 64 * 1024) {
                        out.write(data, off, 64 * 1024);
                    }
                    client.shutdownOutput();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            InputStream in = client.getInputStream();
            byte[] back = Loopback.readAll(in);
            writer.get(10, TimeUnit.SECONDS);
            assertArrayEquals(data, back);
            String line = log.next(5);
            assertNotNull(line, "no session line");
            assertTrue(line.matches(".* " + data.length + " -- 1/1/1/1/0 0/0 " + data.length + " ok"), line);
            // The counters drop right after the line is written, on the event loop.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (proxy.activeSessions() != 0 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertEquals(0, proxy.activeSessions());
        }
    }
}
