package io.mailproxy.reload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.MailProxy;
import io.mailproxy.backend.Backend;
import io.mailproxy.backend.Server;
import io.mailproxy.config.ConfigLoader;
import io.mailproxy.config.ConfigurationException;
import io.mailproxy.config.ProxySettings;
import io.mailproxy.session.ProxyRunner;
import io.mailproxy.session.ScriptedServer;
import io.mailproxy.stick.StickTable;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A configuration applied in place ({@link MailProxy#reload}) through a real mailproxy on loopback:
 * fake servers greet with their name and answer every line with it, so each session shows where it
 * went and whether it still works. Clients connect from their own loopback addresses.
 */
class ReloadInPlaceTest {

    @TempDir
    Path dir;

    private final List<AutoCloseable> cleanup = new CopyOnWriteArrayList<>();
    private final Map<String, ScriptedServer> servers = new HashMap<>();
    private int port;
    private int secondPort;

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    private String config(String servers, String table, String extraBind, String frontendKeys) {
        return """
                mailproxy {
                  frontends {
                    imap { bind = ["127.0.0.1:%d"%s], backend = imap %s }
                  }
                  backends {
                    imap {
                      balance = roundrobin, send-proxy = none, stick-table = %s
                      servers = [ %s ]
                    }
                  }
                }
                """.formatted(port, extraBind, frontendKeys, table, servers);
    }

    private String server(String name, String keys) {
        return "{ name = " + name + ", address = \"127.0.0.1:" + servers.get(name).port() + "\"" + keys + " }";
    }

    private ProxySettings load(String text) throws Exception {
        return ConfigLoader.load(Files.writeString(Files.createTempFile(dir, "mailproxy", ".conf"), text));
    }

    private MailProxy start(String text) throws Exception {
        MailProxy proxy = MailProxy.start(load(text));
        cleanup.add(proxy);
        return proxy;
    }

    private void fakeServers(String... names) throws IOException {
        for (String n : names) {
            servers.put(n, fakeServer(n));
        }
        port = ProxyRunner.freePort();
        secondPort = ProxyRunner.freePort();
    }

    @Test
    void sessionsListenersServersAndStickEntriesSurviveAReload() throws Exception {
        fakeServers("dc1", "dc2", "dc3");
        MailProxy proxy = start(config(server("dc1", "") + ", " + server("dc2", ""), "{ size = 100, expire = 30m }",
                "", ""));
        Backend backend = proxy.backends().get("imap");
        Server dc1 = backend.server("dc1");
        // 12 clients, each with an open session: 6 on dc1, 6 on dc2
        List<Client> open = new ArrayList<>();
        for (int c = 10; c < 22; c++) {
            open.add(new Client("127.0.0." + c, port));
        }
        cleanup.addAll(open);
        Map<String, String> stuck = new HashMap<>();
        open.forEach(c -> stuck.put(c.address, c.server));
        assertEquals(6, open.stream().filter(c -> c.server.equals("dc1")).count(), stuck.toString());
        StickTable table = backend.stickTable();

        // While the reload runs, a client keeps connecting: no connection may be refused.
        AtomicBoolean hammer = new AtomicBoolean(true);
        AtomicInteger refused = new AtomicInteger();
        AtomicInteger served = new AtomicInteger();
        Thread loop = new Thread(() -> {
            while (hammer.get()) {
                try (Socket s = connect("127.0.0.99", port)) {
                    if (greeting(s) != null) {
                        served.incrementAndGet();
                    }
                } catch (IOException e) {
                    refused.incrementAndGet();
                }
            }
        });
        loop.start();
        ProxyRunner.await(() -> served.get() > 20, Duration.ofSeconds(30));
        // dc2 removed, dc3 added, dc1's weight changed, the table grows, a second address listens
        MailProxy.Reload done = proxy.reload(load(config(server("dc1", ", weight = 3") + ", " + server("dc3", ""),
                "{ size = 200, expire = 30m }", ", \"127.0.0.1:" + secondPort + "\"", "")));
        int servedAtReload = served.get();
        ProxyRunner.await(() -> served.get() > servedAtReload + 20, Duration.ofSeconds(30));
        hammer.set(false);
        loop.join();
        assertEquals(0, refused.get(), "connections refused during the reload (" + served.get() + " served)");
        assertEquals("configuration reloaded: frontend imap changed: bind; backend imap changed: stick-table.size;"
                + " server imap/dc1 changed: weight; server imap/dc3 added; server imap/dc2 removed", done.summary());
        assertEquals(List.of("imap/dc2"), done.retired());

        // every session opened before still works, on the server it had
        for (Client c : open) {
            assertEquals("* " + c.server + " NOOP", c.say("a NOOP"), c.address);
        }
        // the backend and its kept server are the same objects, with their counts
        assertSame(backend, proxy.backends().get("imap"));
        assertSame(dc1, backend.server("dc1"));
        assertEquals(3, dc1.weight());
        assertTrue(dc1.totalSessions() >= 6);
        assertTrue(backend.server("dc2") == null, "dc2 is gone from the backend");
        // the table kept its entries (resized: a new table with the same contents)
        StickTable resized = backend.stickTable();
        assertNotEquals(table, resized);
        assertEquals(200, resized.size());
        for (Map.Entry<String, String> e : stuck.entrySet()) {
            assertEquals(e.getValue(), resized.match(InetAddress.getByName(e.getKey())), e.getKey());
        }
        // clients of the kept server land where they were; those of the removed one move, and stay moved
        for (Map.Entry<String, String> e : stuck.entrySet()) {
            String now = session(e.getKey(), port);
            if (e.getValue().equals("dc1")) {
                assertEquals("dc1", now, e.getKey());
            } else {
                assertNotEquals("dc2", now, e.getKey() + " was on the removed dc2");
                assertEquals(now, session(e.getKey(), port), e.getKey() + " stays where it moved");
            }
        }
        // new clients: weight 3 to 1, dc2 never
        Map<String, Integer> counts = new HashMap<>();
        for (int c = 30; c < 70; c++) {
            counts.merge(session("127.0.0." + c, secondPort), 1, Integer::sum);
        }
        assertFalse(counts.containsKey("dc2"), counts.toString());
        assertEquals(30, counts.get("dc1"), counts.toString());
        assertEquals(10, counts.get("dc3"), counts.toString());
    }

    /** Negative control for the in-place claims: a stop and a fresh start loses the table and refuses connections. */
    @Test
    void aRestartInsteadLosesTheTableAndRefusesConnections() throws Exception {
        fakeServers("dc1", "dc2");
        String text = config(server("dc1", "") + ", " + server("dc2", ""), "{ size = 100, expire = 30m }", "", "");
        MailProxy proxy = start(text);
        session("127.0.0.10", port);
        proxy.close();
        assertThrows(IOException.class, () -> connect("127.0.0.10", port).close(), "nothing listens between the two");
        MailProxy again = start(text);
        assertEquals(null, again.backends().get("imap").stickTable().match(InetAddress.getByName("127.0.0.10")));
    }

    @Test
    void aBrokenConfigurationOrAnAddressInUseChangesNothing() throws Exception {
        fakeServers("dc1", "dc2");
        String text = config(server("dc1", "") + ", " + server("dc2", ""), "null", "", "");
        MailProxy proxy = start(text);
        ProxySettings running = proxy.settings();
        // a typo: refused by the loader with its line, before the proxy sees it
        ConfigurationException typo = assertThrows(ConfigurationException.class,
                () -> load(text.replace("balance = roundrobin", "balance = roundrobbin")));
        assertTrue(typo.getMessage().contains(":7: mailproxy.backends.imap.balance"), typo.getMessage());
        // a valid file whose new address is taken: refused whole, even the weight change
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            ConfigurationException busy = assertThrows(ConfigurationException.class, () -> proxy.reload(load(
                    config(server("dc1", ", weight = 7") + ", " + server("dc2", ""), "null",
                            ", \"127.0.0.1:" + secondPort + "\", \"127.0.0.1:" + taken.getLocalPort() + "\"", ""))));
            assertTrue(busy.getMessage().contains("cannot listen on 127.0.0.1:" + taken.getLocalPort()), busy.getMessage());
        }
        assertSame(running, proxy.settings());
        assertEquals(1, proxy.backends().get("imap").server("dc1").weight());
        assertEquals(1, proxy.boundAddresses().size(), "the address bound for the refused reload was given up");
        assertThrows(IOException.class, () -> connect("127.0.0.10", secondPort).close());
        assertTrue(session("127.0.0.10", port).startsWith("dc"), "still serving");
    }

    @Test
    void aRemovedFrontendStopsAcceptingAndItsSessionsGoOn() throws Exception {
        fakeServers("dc1");
        String two = """
                mailproxy {
                  frontends {
                    imap { bind = ["127.0.0.1:%d"], backend = imap }
                    other { bind = ["127.0.0.1:%d"], backend = imap }
                  }
                  backends { imap { send-proxy = none, servers = [ %s ] } }
                }
                """.formatted(port, secondPort, server("dc1", ""));
        MailProxy proxy = start(two);
        Client onOther = new Client("127.0.0.10", secondPort);
        cleanup.add(onOther);
        MailProxy.Reload done = proxy.reload(load(two.replace(
                "other { bind = [\"127.0.0.1:" + secondPort + "\"], backend = imap }", "")));
        assertEquals("configuration reloaded: frontend other removed", done.summary());
        assertThrows(IOException.class, () -> connect("127.0.0.11", secondPort).close());
        assertEquals("* dc1 NOOP", onOther.say("a NOOP"), "its session goes on");
        assertEquals("dc1", session("127.0.0.12", port));
        assertTrue(ProxyRunner.await(() -> proxy.activeSessions() == 1, Duration.ofSeconds(20)),
                "only the removed frontend's session is open: " + proxy.activeSessions());
    }

    @Test
    void aReloadWithoutChangesSaysSoAndKeepsEverything() throws Exception {
        fakeServers("dc1");
        String text = config(server("dc1", ""), "{ size = 10 }", "", "");
        MailProxy proxy = start(text);
        StickTable table = proxy.backends().get("imap").stickTable();
        MailProxy.Reload done = proxy.reload(load(text));
        assertEquals("configuration reloaded: no change", done.summary());
        assertSame(table, proxy.backends().get("imap").stickTable());
    }

    @Test
    void aKeptServerKeepsItsHealthStateAndAChangedCheckStartsFromIt() throws Exception {
        fakeServers("dc1");
        int dead = ProxyRunner.freePort();
        String text = """
                mailproxy {
                  frontends { imap { bind = ["127.0.0.1:%d"], backend = imap } }
                  backends {
                    imap {
                      send-proxy = none
                      health-check { type = tcp, interval = 200ms, fast-interval = 200ms, down-interval = 200ms, rise = 1, fall = 1, timeout = 2s }
                      servers = [ %s, { name = dead, address = "127.0.0.1:%d" } ]
                    }
                  }
                }
                """.formatted(port, server("dc1", ""), dead);
        MailProxy proxy = start(text);
        Backend backend = proxy.backends().get("imap");
        Server down = backend.server("dead");
        assertTrue(ProxyRunner.await(() -> !down.isUp(), Duration.ofSeconds(30)), "dead is marked DOWN");
        var sameCheck = proxy.healthChecks().health(backend.server("dc1"));

        // the check's interval changes (so each server gets a new check) and dc1's weight
        MailProxy.Reload done = proxy.reload(load(text.replace("interval = 200ms, fast", "interval = 300ms, fast")
                .replace("servers = [ { name = dc1, address = \"127.0.0.1:" + servers.get("dc1").port() + "\" }",
                        "servers = [ { name = dc1, address = \"127.0.0.1:" + servers.get("dc1").port() + "\", weight = 2 }")));
        assertEquals("configuration reloaded: backend imap changed: health-check.interval; server imap/dc1 changed: weight",
                done.summary());
        assertTrue(proxy.healthChecks().health(down) != null && !proxy.healthChecks().health(down).isUp(),
                "the new check starts from DOWN, not from health-check.start");
        assertFalse(down.isUp(), "still DOWN right after the reload");
        assertTrue(proxy.healthChecks().health(backend.server("dc1")) != sameCheck, "a new check for the new interval");
        assertTrue(backend.server("dc1").isUp());
        // a reload that leaves the checks as they are keeps the very same checks
        var kept = proxy.healthChecks().health(down);
        proxy.reload(proxy.settings());
        assertSame(kept, proxy.healthChecks().health(down));
        // Negative control: a DOWN server is one that gets no session.
        for (int c = 10; c < 16; c++) {
            assertEquals("dc1", session("127.0.0." + c, port));
        }
    }

    /** A client connected from {@code address}: its greeting says which server it went to. */
    private static final class Client implements AutoCloseable {
        final String address;
        final Socket socket;
        final BufferedReader in;
        final String server;

        Client(String address, int port) throws IOException {
            this.address = address;
            this.socket = connect(address, port);
            this.in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            String line = in.readLine();
            assertTrue(line != null && line.startsWith("* OK "), "greeting: " + line);
            this.server = line.substring(5);
        }

        String say(String line) throws IOException {
            socket.getOutputStream().write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            return in.readLine();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

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
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(20_000);
        return socket;
    }

    private static String greeting(Socket socket) throws IOException {
        String line = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII)).readLine();
        assertTrue(line != null && line.startsWith("* OK "), "greeting: " + line);
        return line.substring(5);
    }

    /** Greets with {@code * OK name}, then answers each line with {@code * name LINE'S LAST WORD}. */
    private ScriptedServer fakeServer(String name) throws IOException {
        ScriptedServer server = new ScriptedServer(s -> {
            ScriptedServer.write(s, "* OK " + name + "\r\n");
            String line;
            while ((line = ScriptedServer.readLine(s)) != null) {
                String[] words = line.split(" ");
                ScriptedServer.write(s, "* " + name + " " + words[words.length - 1] + "\r\n");
            }
        });
        cleanup.add(server);
        return server;
    }
}
