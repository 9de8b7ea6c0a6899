package io.mailproxy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.MailProxy;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A frontend's {@code timeout.idle} closes a session silent in both directions, and only such a session. */
class IdleTimeoutTest {

    @TempDir
    Path dir;

    @Test
    void silentSessionIsClosedAfterTheIdleTimeout() throws Exception {
        try (Loopback.Backend backend = new Loopback.Backend(Loopback::silent);
             MailProxy proxy = Loopback.proxy(dir, "timeout.idle = 1s", backend.port());
             Loopback.SessionLines log = new Loopback.SessionLines();
             Socket client = Loopback.connect(proxy)) {
            long start = System.nanoTime();
            // EOF: the proxy closed the connection (an idle close is orderly, not a reset).
            assertEquals(-1, client.getInputStream().read());
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(elapsedMillis >= 800 && elapsedMillis < 4000, "closed after " + elapsedMillis + " ms");

            String line = log.next(5);
            assertNotNull(line, "no session line");
            assertTrue(line.matches(".* plain pool/s1 0/\\d+/\\d+ 0 cD 1/1/1/1/0 0/0 0 idle-timeout"), line);
        }
    }

    @Test
    void trafficKeepsTheSessionOpen() throws Exception {
        // Negative control: the same frontend, a byte every 300 ms for more than twice the timeout.
        try (Loopback.Backend backend = new Loopback.Backend(Loopback::silent);
             MailProxy proxy = Loopback.proxy(dir, "timeout.idle = 1s", backend.port());
             Loopback.SessionLines log = new Loopback.SessionLines();
             Socket client = Loopback.connect(proxy)) {
            OutputStream out = client.getOutputStream();
            client.setSoTimeout(300);
            long end = System.nanoTime() + 2_400_000_000L;
            int sent = 0;
            while (System.nanoTime() < end) {
                out.write('.');
                out.flush();
                sent++;
                // Waiting in read() both paces the writes and would see the proxy's EOF at once.
                assertThrows(SocketTimeoutException.class, () -> client.getInputStream().read());
            }
            assertTrue(sent >= 7, "sent " + sent);
            assertNull(log.next(0), "the session ended while traffic flowed");

            client.close();
            String line = log.next(5);
            assertNotNull(line, "no session line");
            assertTrue(line.matches(".* 0 -- 1/1/1/1/0 0/0 " + sent + " ok"), line);
        }
    }
}
