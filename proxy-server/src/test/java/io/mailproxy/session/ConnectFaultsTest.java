package io.mailproxy.session;

import static io.mailproxy.session.ScriptedServer.neverRead;
import static io.mailproxy.session.ScriptedServer.readLine;
import static io.mailproxy.session.ScriptedServer.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.backend.Server;
import io.mailproxy.log.LogCapture;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Servers that do not answer as they should while a session looks for one: a blackholed server
 * (SYNs dropped), one that accepts and never greets, one that is down for a moment.
 */
class ConnectFaultsTest {

    private static final String UNAVAILABLE = "* BYE [UNAVAILABLE] Service temporarily unavailable, try again later";
    private static final Pattern TOTAL = Pattern.compile("] \\S+ \\S+ -?\\d+/-?\\d+/(\\d+) ");

    @TempDir
    Path dir;

    private static long totalMillis(String line) {
        Matcher m = TOTAL.matcher(line);
        assertTrue(m.find(), line);
        return Long.parseLong(m.group(1));
    }

    private static String blackholed(int port) {
        return """
                max-connections = 1
                frontends { imap { bind = ["127.0.0.1:%%PORT%%"], backend = pool } }
                backends { pool { send-proxy = none, retries = 0, timeout.connect = 4s, servers = [
                  { name = hole, address = "127.0.0.1:%d" } ] } }
                """.formatted(port);
    }

    /**
     * With {@code max-connections = 1} and a blackholed server, a client that leaves while its
     * server connects is logged at once and gives its slot back: the next client is accepted.
     */
    @Test
    void aClientThatLeavesWhileItsServerConnectsIsLoggedAndGivesItsSlotBack() throws Exception {
        try (ScriptedServer.Blackhole hole = new ScriptedServer.Blackhole();
             ProxyRunner p = ProxyRunner.start(dir, blackholed(hole.port()))) {
            Socket first = p.connect("127.0.0.1");
            assertTrue(ProxyRunner.await(() -> p.proxy.activeSessions() == 1, Duration.ofSeconds(5)));
            first.close();
            String line = p.lineOf(first, Duration.ofSeconds(10));
            assertTrue(line.contains(" CC ") && line.contains(" client-gone"), line);
            assertTrue(totalMillis(line) < 4000, "logged when the client left, not when the connect gave up: " + line);
            assertTrue(ProxyRunner.await(() -> p.proxy.activeSessions() == 0 && p.proxy.gate().global().count() == 0,
                    Duration.ofSeconds(5)), "its slot is free");
            try (Socket next = p.connect("127.0.0.1")) {
                // accepted now (the only slot is free): it waits for the blackholed server in turn
                assertEquals(UNAVAILABLE, readLine(next));
                String nextLine = p.lineOf(next, Duration.ofSeconds(10));
                assertTrue(nextLine.contains(" sC ") && nextLine.contains(" connect-timeout: "), nextLine);
            }
            assertEquals(1, p.linesOf(first), "logged once");
        }
    }

    /** Negative control: the server really is blackholed, and a client that stays holds the slot until the connect timeout. */
    @Test
    void aClientThatStaysWaitsForTheConnectTimeout() throws Exception {
        try (ScriptedServer.Blackhole hole = new ScriptedServer.Blackhole();
             ProxyRunner p = ProxyRunner.start(dir, blackholed(hole.port()));
             Socket client = p.connect("127.0.0.1")) {
            assertEquals(UNAVAILABLE, readLine(client));
            String line = p.lineOf(client, Duration.ofSeconds(10));
            assertTrue(line.contains(" sC ") && line.contains(" connect-timeout: "), line);
            assertTrue(totalMillis(line) >= 4000, line);
        }
    }

    private static String twoServers(int first, int second, String backendKeys) {
        return """
                frontends { imap { bind = ["127.0.0.1:%%PORT%%"], backend = pool } }
                backends { pool { send-proxy = none, balance = first, timeout.server-greeting = 1s, %s
                  servers = [ { name = mute, address = "127.0.0.1:%d" }, { name = speaks, address = "127.0.0.1:%d" } ] } }
                """.formatted(backendKeys, first, second);
    }

    @Test
    void aServerThatAcceptsAndNeverGreetsIsAFailedConnectionAndTheNextServerTakesTheSession() throws Exception {
        try (ScriptedServer mute = new ScriptedServer(ScriptedServer::neverRead);
             ScriptedServer speaks = new ScriptedServer(s -> {
                 write(s, "* OK speaks\r\n");
                 readLine(s);
                 write(s, "* BYE bye\r\na OK done\r\n");
             });
             ProxyRunner p = ProxyRunner.start(dir, twoServers(mute.port(), speaks.port(), ""));
             Socket client = p.connect("127.0.0.1")) {
            assertEquals("* OK speaks", readLine(client));
            write(client, "a LOGOUT\r\n");
            assertEquals("* BYE bye", readLine(client));
            String line = p.lineOf(client, Duration.ofSeconds(10));
            assertTrue(line.contains(" pool/speaks ") && line.contains(" -- ") && line.matches(".* \\d+/\\d+/\\d+/\\d+/1 .*"),
                    "one retry, on the server that greets: " + line);
            Server muteServer = p.proxy.backends().get("pool").server("mute");
            assertEquals(1, muteServer.connectFailures());
            assertEquals(0, muteServer.activeSessions(), "the silent server's slot was given back");
        }
    }

    @Test
    void whenNoServerGreetsTheClientReadsUnavailable() throws Exception {
        try (ScriptedServer mute1 = new ScriptedServer(ScriptedServer::neverRead);
             ScriptedServer mute2 = new ScriptedServer(ScriptedServer::neverRead);
             ProxyRunner p = ProxyRunner.start(dir, twoServers(mute1.port(), mute2.port(), "retries = 1,"));
             Socket client = p.connect("127.0.0.1")) {
            assertEquals(UNAVAILABLE, readLine(client));
            String line = p.lineOf(client, Duration.ofSeconds(10));
            assertTrue(line.contains(" sC ") && line.contains(" greeting-timeout: ") && line.contains("no greeting within 1000ms"),
                    line);
        }
    }

    /** Negative control: without timeout.server-greeting, the silent server's session holds the client. */
    @Test
    void withoutTheGreetingTimeoutTheClientWaitsOnASilentServer() throws Exception {
        try (ScriptedServer mute = new ScriptedServer(ScriptedServer::neverRead);
             ScriptedServer speaks = new ScriptedServer(s -> write(s, "* OK speaks\r\n"));
             ProxyRunner p = ProxyRunner.start(dir, twoServers(mute.port(), speaks.port(), "timeout.server-greeting = null,"));
             Socket client = p.connect("127.0.0.1")) {
            client.setSoTimeout(3000);
            assertThrows(SocketTimeoutException.class, () -> readLine(client));
        }
    }

    /**
     * Sessions' failed connections reach the server's health (HAProxy's observe layer4): the mute
     * server passes its TCP checks, yet two sessions that found it silent take it DOWN.
     */
    @Test
    void sessionsThatFindAServerSilentTakeItDown() throws Exception {
        try (ScriptedServer mute = new ScriptedServer(ScriptedServer::neverRead);
             ScriptedServer speaks = new ScriptedServer(s -> write(s, "* OK speaks\r\n"));
             LogCapture health = LogCapture.attach("io.mailproxy.checks.ServerHealth");
             ProxyRunner p = ProxyRunner.start(dir, twoServers(mute.port(), speaks.port(),
                     "health-check { type = tcp, send-proxy = none, interval = 1m, fall = 1, error-limit = 2 },"))) {
            Server muteServer = p.proxy.backends().get("pool").server("mute");
            for (int i = 0; i < 2; i++) {
                try (Socket client = p.connect("127.0.0.1")) {
                    assertEquals("* OK speaks", readLine(client));
                }
            }
            assertTrue(ProxyRunner.await(() -> !muteServer.isUp(), Duration.ofSeconds(5)), health.lines().toString());
            String down = health.await(l -> l.contains("Server pool/mute is DOWN"), Duration.ofSeconds(5));
            assertTrue(down.contains("2 session errors, last: no greeting within 1000ms"), down);
        }
    }

    /** Negative control: with observe = none only the checks decide, and the TCP checks pass. */
    @Test
    void withoutObserveTheChecksAloneDecide() throws Exception {
        try (ScriptedServer mute = new ScriptedServer(ScriptedServer::neverRead);
             ScriptedServer speaks = new ScriptedServer(s -> write(s, "* OK speaks\r\n"));
             ProxyRunner p = ProxyRunner.start(dir, twoServers(mute.port(), speaks.port(),
                     "health-check { type = tcp, send-proxy = none, interval = 1m, fall = 1, error-limit = 2, observe = none },"))) {
            for (int i = 0; i < 3; i++) {
                try (Socket client = p.connect("127.0.0.1")) {
                    assertEquals("* OK speaks", readLine(client));
                }
            }
            assertTrue(p.proxy.backends().get("pool").server("mute").isUp());
        }
    }

    /** A one-server backend retries its server after the turn-around (HAProxy's retries), so a restart in between is bridged. */
    @Test
    void aOneServerBackendRetriesItsServer() throws Exception {
        int port = ProxyRunner.freePort();
        try (ProxyRunner p = ProxyRunner.start(dir, """
                frontends { imap { bind = ["127.0.0.1:%%PORT%%"], backend = pool } }
                backends { pool { send-proxy = none, retries = 3, servers = [ { name = only, address = "127.0.0.1:%d" } ] } }
                """.formatted(port));
             Socket client = p.connect("127.0.0.1")) {
            Server only = p.proxy.backends().get("pool").server("only");
            assertTrue(ProxyRunner.await(() -> only.connectFailures() >= 1, Duration.ofSeconds(5)), "the first attempt was refused");
            try (ScriptedServer back = new ScriptedServer(port, s -> write(s, "* OK back\r\n"))) {
                assertEquals("* OK back", readLine(client));
                client.close();
                String line = p.lineOf(client, Duration.ofSeconds(10));
                assertTrue(line.contains(" pool/only ") && !line.matches(".* \\d+/\\d+/\\d+/\\d+/0 .*"), "retried: " + line);
            }
        }
    }

    /** Negative control: with retries = 0 the one refused attempt is final. */
    @Test
    void withoutRetriesTheFirstRefusalIsFinal() throws Exception {
        int port = ProxyRunner.freePort();
        try (ProxyRunner p = ProxyRunner.start(dir, """
                frontends { imap { bind = ["127.0.0.1:%%PORT%%"], backend = pool } }
                backends { pool { send-proxy = none, retries = 0, servers = [ { name = only, address = "127.0.0.1:%d" } ] } }
                """.formatted(port));
             Socket client = p.connect("127.0.0.1")) {
            assertEquals(UNAVAILABLE, readLine(client));
            String line = p.lineOf(client, Duration.ofSeconds(10));
            assertTrue(line.contains(" SC ") && line.contains("no-server"), line);
            assertFalse(line.isEmpty());
            assertNull(readLine(client));
        }
    }
}
