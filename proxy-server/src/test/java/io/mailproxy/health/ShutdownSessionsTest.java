package io.mailproxy.health;

import io.mailproxy.log.LogCapture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.MailProxy;
import io.mailproxy.backend.Server;
import io.mailproxy.config.ConfigLoader;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code on-marked-down}: the traffic server stays alive, only its check port goes away, so what
 * closes the session can only be mailproxy reacting to the DOWN verdict.
 */
class ShutdownSessionsTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private final List<AutoCloseable> cleanup = new CopyOnWriteArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    @Test
    void shutdownSessionsClosesTheDownServersSessionsWithDD() throws Exception {
        try (LogCapture sessions = LogCapture.sessions();
             LogCapture transitions = LogCapture.attach("io.mailproxy.checks.ServerHealth")) {
            Setup s = setup("shutdown-sessions");
            try (Socket client = s.connect()) {
                BufferedReader in = reader(client);
                assertEquals("* OK fake ready", in.readLine());
                awaitConnected(s.server);

                s.checkPort.close(); // the check now fails with L4CON; the traffic port still serves
                String down = transitions.await(l -> l.contains("is DOWN"), WAIT);
                // the info is the OS's words; with epoll Netty prefixes them ("finishConnect(..) failed ...")
                assertTrue(down.startsWith("Server b/s1 is DOWN, reason: Layer4 connection problem, info: \"")
                        && down.contains("Connection refused") && down.endsWith("0 active and 0 backup servers left."), down);

                client.setSoTimeout((int) WAIT.toMillis());
                assertEquals(-1, client.getInputStream().read(), "mailproxy closes the client's side");
                String line = sessions.await(l -> l.contains(" b/s1 "), WAIT);
                assertTrue(line.contains(" DD ") && line.endsWith("server-down: server b/s1 is DOWN"), line);
            }
        }
    }

    /** Negative control: by default a DOWN server keeps its sessions. */
    @Test
    void byDefaultSessionsOfADownServerStay() throws Exception {
        try (LogCapture transitions = LogCapture.attach("io.mailproxy.checks.ServerHealth")) {
            Setup s = setup("none");
            try (Socket client = s.connect()) {
                BufferedReader in = reader(client);
                assertEquals("* OK fake ready", in.readLine());
                awaitConnected(s.server);

                s.checkPort.close();
                transitions.await(l -> l.contains("Server b/s1 is DOWN"), WAIT);
                assertFalse(s.server.isUp());

                // still relayed both ways: the fake server echoes
                OutputStream out = client.getOutputStream();
                out.write("a1 NOOP\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                client.setSoTimeout(5000);
                assertEquals("a1 NOOP", in.readLine());
                assertEquals(1, s.server.connectedSessions());
                // and no new session goes to it: the client gets the protocol's refusal
                try (Socket refused = s.connect()) {
                    String reply = reader(refused).readLine();
                    assertTrue(reply.startsWith("* BYE"), reply);
                }
                client.setSoTimeout(300);
                assertThrows(SocketTimeoutException.class, () -> client.getInputStream().read());
            }
        }
    }

    private record Setup(MailProxy proxy, Server server, ServerSocket checkPort, int proxyPort) {
        Socket connect() throws IOException {
            Socket socket = new Socket();
            socket.connect(new InetSocketAddress("127.0.0.1", proxyPort), 2000);
            socket.setSoTimeout(5000);
            return socket;
        }
    }

    private Setup setup(String onMarkedDown) throws Exception {
        ServerSocket traffic = fakeImap();
        ServerSocket checkPort = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        cleanup.add(checkPort);
        acceptAndClose(checkPort);
        int proxyPort;
        try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            proxyPort = probe.getLocalPort();
        }
        Path file = dir.resolve("mailproxy.conf");
        Files.writeString(file, """
                mailproxy {
                  frontends.f { bind = ["127.0.0.1:%d"], backend = b }
                  backends.b {
                    send-proxy = none
                    on-marked-down = %s
                    servers = [{ name = s1, address = "127.0.0.1:%d" }]
                    health-check {
                      type = tcp
                      send-proxy = none
                      port = %d
                      interval = 100ms
                      fast-interval = 100ms
                      down-interval = 100ms
                      rise = 1
                      fall = 1
                      timeout = 1s
                    }
                  }
                }
                """.formatted(proxyPort, onMarkedDown, traffic.getLocalPort(), checkPort.getLocalPort()));
        MailProxy proxy = MailProxy.start(ConfigLoader.load(file));
        cleanup.add(proxy);
        return new Setup(proxy, proxy.backends().get("b").server("s1"), checkPort, proxyPort);
    }

    /** A greeting, then every line echoed, one thread per connection. */
    private ServerSocket fakeImap() throws IOException {
        ServerSocket server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        cleanup.add(server);
        Thread acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    cleanup.add(s);
                    Thread echo = new Thread(() -> {
                        try (s) {
                            OutputStream out = s.getOutputStream();
                            out.write("* OK fake ready\r\n".getBytes(StandardCharsets.US_ASCII));
                            out.flush();
                            BufferedReader in = reader(s);
                            for (String line; (line = in.readLine()) != null; ) {
                                out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
                                out.flush();
                            }
                        } catch (IOException e) {
                            // the test closed it
                        }
                    }, "fake-imap-conn");
                    echo.setDaemon(true);
                    echo.start();
                } catch (IOException e) {
                    return;
                }
            }
        }, "fake-imap");
        acceptor.setDaemon(true);
        acceptor.start();
        return server;
    }

    /** The check port: accepts and closes, which is a pass for a {@code tcp} check. */
    private static void acceptAndClose(ServerSocket server) {
        Thread t = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    server.accept().close();
                } catch (IOException e) {
                    return;
                }
            }
        }, "check-port");
        t.setDaemon(true);
        t.start();
    }

    private static void awaitConnected(Server server) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (server.connectedSessions() == 0) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the session never reached " + server);
            }
            Thread.sleep(10);
        }
    }

    private static BufferedReader reader(Socket s) throws IOException {
        return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
    }
}
