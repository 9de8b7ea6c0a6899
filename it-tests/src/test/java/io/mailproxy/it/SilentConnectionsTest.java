package io.mailproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.MailProxy;
import io.mailproxy.log.LogCapture;
import io.mailproxy.tls.GeneratedCertificate;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 60 TCP connections from one address that never start their TLS handshake, against a TLS frontend
 * with {@code max-connections = 20}: with {@code max-connections-per-source = 10} that source holds
 * 10 slots, the other 50 are closed at the accept (before any TLS work, logged
 * {@code PR source-limit}), and a real {@code openssl s_client} from another address gets its
 * handshake and its greeting at once. Without the cap, the silent connections take every slot and
 * the real client waits in the kernel's backlog behind them.
 */
class SilentConnectionsTest {

    private static final int SILENT = 60;
    private static final String ATTACKER = "127.0.0.2";

    @TempDir
    Path dir;

    @Test
    void aRealClientIsServedWhileOneSourceHoldsItsCap() throws Exception {
        try (Greeter greeter = new Greeter(); LogCapture log = LogCapture.sessions()) {
            int port = FreePorts.next();
            MailProxy proxy = ProxyFixture.startFrom(dir.resolve("cap.conf"), config(port, greeter.port(), 10));
            List<Socket> silent = new ArrayList<>();
            try {
                openSilent(port, silent);
                assertTrue(await(() -> count(log, " source-limit: ") == SILENT - 10), "50 refused: " + log.lines());
                assertEquals(10, proxy.activeSessions(), "the source holds its 10");
                ExternalClient.Result r = openssl(port);
                assertTrue(r.output().contains("* OK greeter"), r.output());
            } finally {
                for (Socket s : silent) {
                    s.close();
                }
                assertTrue(await(() -> proxy.activeSessions() == 0), "every silent session ended");
                proxy.close();
            }
            assertEquals(10, count(log, ATTACKER + ":") - count(log, " source-limit: "),
                    "each held connection is logged once: " + log.lines());
            assertTrue(log.lines().stream().filter(l -> l.startsWith(ATTACKER + ":") && !l.contains(" source-limit: "))
                    .allMatch(l -> l.contains(" CR ") && l.contains(" tls-handshake")), log.lines().toString());
        }
    }

    /** Negative control: without the cap, the same 60 connections lock the frontend. */
    @Test
    void withoutTheCapTheSilentConnectionsLockTheFrontend() throws Exception {
        try (Greeter greeter = new Greeter()) {
            int port = FreePorts.next();
            MailProxy proxy = ProxyFixture.startFrom(dir.resolve("nocap.conf"), config(port, greeter.port(), 0));
            List<Socket> silent = new ArrayList<>();
            try {
                openSilent(port, silent);
                assertTrue(await(() -> proxy.activeSessions() == 20), "every slot taken");
                assertThrows(AssertionError.class, () -> openssl(port), "no handshake within 2 s");
            } finally {
                for (Socket s : silent) {
                    s.close();
                }
                proxy.close();
            }
        }
    }

    private String config(int port, int greeterPort, int perSource) {
        GeneratedCertificate cert = ProxyFixture.certificate(dir);
        return """
                mailproxy {
                  frontends {
                    imaps {
                      bind = ["127.0.0.1:%d"], protocol = imap, backend = greeter
                      max-connections = 20
                      max-connections-per-source = %d
                      %s
                      tls.handshake-timeout = 60s
                    }
                  }
                  backends { greeter { send-proxy = none, servers = [ { name = g, address = "127.0.0.1:%d" } ] } }
                }
                """.formatted(port, perSource, ProxyFixture.implicitTls(cert), greeterPort);
    }

    private static void openSilent(int port, List<Socket> into) throws IOException {
        for (int i = 0; i < SILENT; i++) {
            Socket s = new Socket();
            s.bind(new InetSocketAddress(ATTACKER, 0));
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            into.add(s);
        }
    }

    /** {@code openssl s_client} from 127.0.0.1: handshake, greeting, LOGOUT, within 2 s. */
    private ExternalClient.Result openssl(int port) {
        return ExternalClient.run(dir, List.of("openssl", "s_client", "-quiet", "-connect", "127.0.0.1:" + port,
                "-servername", "localhost"), List.of("a LOGOUT"), Duration.ofSeconds(2));
    }

    private static long count(LogCapture log, String fragment) {
        return log.lines().stream().filter(l -> l.contains(fragment)).count();
    }

    private static boolean await(BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            LockSupport.parkNanos(10_000_000);
        }
        return true;
    }

    /** An IMAP server that greets, answers LOGOUT and closes; one thread per connection. */
    private static final class Greeter implements AutoCloseable {
        private final ServerSocket listener = new ServerSocket(0, 100, InetAddress.getLoopbackAddress());

        Greeter() throws IOException {
            Thread acceptor = new Thread(() -> {
                while (!listener.isClosed()) {
                    try {
                        Socket s = listener.accept();
                        Thread t = new Thread(() -> serve(s));
                        t.setDaemon(true);
                        t.start();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
        }

        private static void serve(Socket s) {
            try (s) {
                OutputStream out = s.getOutputStream();
                out.write("* OK greeter\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                int c;
                while ((c = s.getInputStream().read()) >= 0 && c != '\n') {
                    // the command
                }
                out.write("* BYE bye\r\na OK done\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            } catch (IOException e) {
                // the client left
            }
        }

        int port() {
            return listener.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            listener.close();
        }
    }
}
