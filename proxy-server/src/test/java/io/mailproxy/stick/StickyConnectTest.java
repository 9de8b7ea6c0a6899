package io.mailproxy.stick;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.MailProxy;
import io.mailproxy.backend.Backend;
import io.mailproxy.backend.Dispatch;
import io.mailproxy.config.ConfigLoader;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stick match and store around the balancer, through a real mailproxy on loopback: fake servers
 * greet with their own name, so each session shows where it went. Clients connect from their own
 * loopback addresses (Linux routes all of 127/8 to lo).
 */
class StickyConnectTest {

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
    void eachClientKeepsItsServer() throws Exception {
        Setup s = setup("{ size = 1k, expire = 30m }", "null");
        Map<String, Set<String>> seen = sessions(s.imapPort, 5, 4);
        seen.forEach((client, servers) -> assertEquals(1, servers.size(), client + " went to " + servers));
        Set<String> used = new HashSet<>();
        seen.values().forEach(used::addAll);
        assertEquals(Set.of("dc1", "dc2"), used, "the balancer still spreads new clients");
    }

    /** Negative control: without a table, round robin sends a client's sessions to both servers. */
    @Test
    void withoutATableClientsSpread() throws Exception {
        Setup s = setup("null", "null");
        Map<String, Set<String>> seen = sessions(s.imapPort, 5, 4);
        assertTrue(seen.values().stream().anyMatch(v -> v.size() > 1), "every client kept one server: " + seen);
    }

    @Test
    void aSharedTableSendsImapAndPop3OfOneClientToTheSameServerName() throws Exception {
        Setup s = setup("users", "users");
        for (int c = 10; c < 16; c++) {
            String client = "127.0.0." + c;
            String imap = session(client, s.imapPort);
            assertEquals(imap, session(client, s.pop3Port), client);
        }
    }

    /** Negative control: private tables, and the POP3 backend lists its servers the other way round. */
    @Test
    void privateTablesDoNotLinkTheProtocols() throws Exception {
        Setup s = setup("{}", "{}");
        int differ = 0;
        for (int c = 10; c < 16; c++) {
            String client = "127.0.0." + c;
            if (!session(client, s.imapPort).equals(session(client, s.pop3Port))) {
                differ++;
            }
        }
        assertTrue(differ > 0, "IMAP and POP3 agreed for every client without a shared table");
    }

    @Test
    void aDownServersClientsMoveAndStayMoved() throws Exception {
        Setup s = setup("{}", "null");
        Backend imap = s.proxy.backends().get("imap");
        String client = "127.0.0.20";
        String first = session(client, s.imapPort);
        String other = first.equals("dc1") ? "dc2" : "dc1";
        Logger logger = Logger.getLogger(Dispatch.class.getName());
        Level level = logger.getLevel();
        List<String> fine = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                fine.add(r.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.setLevel(Level.FINE);
        logger.addHandler(capture);
        try {
            imap.markUp(imap.server(first), false);
            assertEquals(other, session(client, s.imapPort), "the stored server is DOWN: balanced");
            assertEquals(List.of("stick table imap: 127.0.0.20 moves from " + first + " to " + other + " (imap/" + other + ")"),
                    fine);
            imap.markUp(imap.server(first), true);
            for (int i = 0; i < 3; i++) {
                assertEquals(other, session(client, s.imapPort), "the entry was overwritten");
            }
        } finally {
            logger.removeHandler(capture);
            logger.setLevel(level);
        }
    }

    @Test
    void afterAFailedConnectTheEntryFollowsTheServerThatTookTheSession() throws Exception {
        // dc1's address refuses connections; without checks it counts as UP, so the match uses it
        Setup s = setup("{}", "null", true);
        String client = "127.0.0.21";
        StickTable table = s.proxy.backends().get("imap").stickTable();
        table.store(InetAddress.getByName(client), "dc1");
        assertEquals("dc2", session(client, s.imapPort), "the retry went to the other server");
        assertEquals("dc2", table.match(InetAddress.getByName(client)));
        // retries = 3, redispatch = true: the first attempt and two retries go to the stuck server (as
        // HAProxy retries the same server), the last retry to the other one
        assertEquals(3, s.proxy.backends().get("imap").server("dc1").connectFailures(), "dc1 was tried first");
    }

    @Test
    void theKeyIsTheAddressFromTheProxyHeader() throws Exception {
        Setup s = setup("{}", "null");
        String server;
        try (Socket socket = connect("127.0.0.22", s.acceptProxyPort)) {
            OutputStream out = socket.getOutputStream();
            out.write("PROXY TCP4 192.0.2.7 127.0.0.1 5000 143\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            server = greeting(socket);
        }
        StickTable table = s.proxy.backends().get("imap").stickTable();
        assertEquals(server, table.match(InetAddress.getByName("192.0.2.7")));
        // Negative control: the socket's own address is not what was stored.
        assertNull(table.match(InetAddress.getByName("127.0.0.22")));
    }

    private record Setup(MailProxy proxy, int imapPort, int pop3Port, int acceptProxyPort, Map<String, ServerSocket> servers) {
    }

    private Setup setup(String imapTable, String pop3Table) throws Exception {
        return setup(imapTable, pop3Table, false);
    }

    /** {@code dc1Refuses}: dc1's address is a port nothing listens on. */
    private Setup setup(String imapTable, String pop3Table, boolean dc1Refuses) throws Exception {
        Map<String, ServerSocket> servers = Map.of("dc1", fakeServer("dc1"), "dc2", fakeServer("dc2"));
        int dc1Port = dc1Refuses ? freePort() : port(servers, "dc1");
        int imapPort = freePort();
        int pop3Port = freePort();
        int acceptProxyPort = freePort();
        String config = """
                mailproxy {
                  frontends {
                    imap { bind = ["127.0.0.1:%d"], backend = imap }
                    pop3 { bind = ["127.0.0.1:%d"], protocol = pop3, backend = pop3 }
                    behind-lb {
                      bind = ["127.0.0.1:%d"], backend = imap
                      accept-proxy { enabled = true, trusted-networks = ["127.0.0.0/8"] }
                    }
                  }
                  stick-tables { users { size = 1k, expire = 30m } }
                  backends {
                    imap {
                      balance = roundrobin, send-proxy = none, stick-table = %s
                      servers = [{ name = dc1, address = "127.0.0.1:%d" }, { name = dc2, address = "127.0.0.1:%d" }]
                    }
                    pop3 {
                      balance = roundrobin, send-proxy = none, stick-table = %s
                      servers = [{ name = dc2, address = "127.0.0.1:%d" }, { name = dc1, address = "127.0.0.1:%d" }]
                    }
                  }
                }
                """.formatted(imapPort, pop3Port, acceptProxyPort, imapTable, dc1Port, port(servers, "dc2"),
                pop3Table, port(servers, "dc2"), dc1Port);
        MailProxy proxy = MailProxy.start(ConfigLoader.load(Files.writeString(dir.resolve("mailproxy.conf"), config)));
        cleanup.add(proxy);
        return new Setup(proxy, imapPort, pop3Port, acceptProxyPort, servers);
    }

    private static int port(Map<String, ServerSocket> servers, String name) {
        return servers.get(name).getLocalPort();
    }

    /**
     * {@code perClient} sessions from each of {@code clients} addresses, taking turns. An odd count
     * of clients: with an even one, round robin over two servers would give each client the same
     * server every round even without a table.
     */
    private static Map<String, Set<String>> sessions(int port, int clients, int perClient) {
        Map<String, Set<String>> seen = new HashMap<>();
        for (int round = 0; round < perClient; round++) {
            for (int c = 0; c < clients; c++) {
                String client = "127.0.0." + (10 + c);
                seen.computeIfAbsent(client, k -> new HashSet<>()).add(session(client, port));
            }
        }
        return seen;
    }

    /** One session from {@code client}: the name of the server that greeted it. */
    private static String session(String client, int port) {
        try (Socket socket = connect(client, port)) {
            return greeting(socket);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Socket connect(String client, int port) throws IOException {
        Socket socket = new Socket();
        socket.bind(new InetSocketAddress(client, 0));
        socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
        socket.setSoTimeout(5000);
        return socket;
    }

    private static String greeting(Socket socket) throws IOException {
        String line = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII)).readLine();
        assertTrue(line != null && line.startsWith("* OK "), "greeting: " + line);
        return line.substring(5);
    }

    private static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    /** Greets every connection with {@code * OK name} and holds it until the peer closes. */
    private ServerSocket fakeServer(String name) throws IOException {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        cleanup.add(server);
        Thread acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    cleanup.add(s);
                    Thread conn = new Thread(() -> {
                        try (s) {
                            s.getOutputStream().write(("* OK " + name + "\r\n").getBytes(StandardCharsets.US_ASCII));
                            s.getOutputStream().flush();
                            while (s.getInputStream().read() >= 0) {
                                // until mailproxy passes on the client's close
                            }
                        } catch (IOException e) {
                            // the test closed it
                        }
                    }, "fake-" + name + "-conn");
                    conn.setDaemon(true);
                    conn.start();
                } catch (IOException e) {
                    return;
                }
            }
        }, "fake-" + name);
        acceptor.setDaemon(true);
        acceptor.start();
        return server;
    }
}
