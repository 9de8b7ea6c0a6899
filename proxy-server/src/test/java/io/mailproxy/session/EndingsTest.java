package io.mailproxy.session;

import static io.mailproxy.session.ScriptedServer.neverRead;
import static io.mailproxy.session.ScriptedServer.readLine;
import static io.mailproxy.session.ScriptedServer.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a session ends when the server ends it: after its protocol's goodbye it is a normal end; a
 * server that just goes away (killed, crashed) is a server abort, and an LMTP server that goes away
 * between the end of DATA and its replies has its own code, since the client cannot know whether
 * the message was delivered. And the half-closed and closing phases have their bounds.
 */
class EndingsTest {

    @TempDir
    Path dir;

    private ProxyRunner proxy(String protocol, int serverPort, String frontendKeys, String backendKeys) throws Exception {
        return ProxyRunner.start(dir, """
                frontends { f { bind = ["127.0.0.1:%%PORT%%"], protocol = %s, backend = pool %s } }
                backends { pool { send-proxy = none %s, servers = [ { name = s1, address = "127.0.0.1:%d" } ] } }
                """.formatted(protocol, frontendKeys, backendKeys, serverPort));
    }

    private String session(String protocol, ScriptedServer.Script server, String... clientLines) throws Exception {
        try (ScriptedServer s = new ScriptedServer(server); ProxyRunner p = proxy(protocol, s.port(), "", "");
             Socket client = p.connect("127.0.0.1")) {
            readLine(client);
            for (String line : clientLines) {
                write(client, line + "\r\n");
            }
            while (readLine(client) != null) {
                // what the server says until it closes
            }
            return p.lineOf(client, Duration.ofSeconds(10));
        }
    }

    @Test
    void anImapServerThatClosesAfterItsByeEndsNormally() throws Exception {
        String line = session("imap", s -> {
            write(s, "* OK ready\r\n");
            readLine(s);
            write(s, "* BYE Logging out\r\na OK Logout completed.\r\n");
        }, "a LOGOUT");
        assertTrue(line.contains(" -- ") && line.endsWith(" ok"), line);
    }

    @Test
    void anImapServerThatVanishesIsAServerAbort() throws Exception {
        String line = session("imap", s -> {
            write(s, "* OK ready\r\n");
            readLine(s);
            write(s, "a OK Login completed.\r\n");
        }, "a LOGIN u p");
        assertTrue(line.contains(" SD ") && line.endsWith(" server-abort"), line);
    }

    @Test
    void aPop3ServerThatAnswersQuitEndsNormally() throws Exception {
        String line = session("pop3", s -> {
            write(s, "+OK ready\r\n");
            readLine(s);
            write(s, "+OK Logging out.\r\n");
        }, "QUIT");
        assertTrue(line.contains(" -- ") && line.endsWith(" ok"), line);
    }

    @Test
    void aPop3ServerThatVanishesIsAServerAbort() throws Exception {
        String line = session("pop3", s -> {
            write(s, "+OK ready\r\n");
            readLine(s);
            write(s, "+OK 2 320\r\n");
        }, "STAT");
        assertTrue(line.contains(" SD ") && line.endsWith(" server-abort"), line);
    }

    /** A fake LMTP server: greeting, LHLO, MAIL, two RCPT, DATA; then {@code afterData}. */
    private static ScriptedServer.Script lmtp(ScriptedServer.Script afterData) {
        return s -> {
            write(s, "220 lmtp ready\r\n");
            for (String reply : new String[] {"250-lmtp\r\n250 PIPELINING\r\n", "250 2.1.0 Ok\r\n", "250 2.1.5 Ok\r\n",
                    "250 2.1.5 Ok\r\n", "354 OK\r\n"}) {
                readLine(s);
                write(s, reply);
            }
            String line;
            while ((line = readLine(s)) != null && !line.equals(".")) {
                // the message
            }
            afterData.run(s);
        };
    }

    /**
     * An MTA as RFC 2033 has it: each command's reply read before the next (LHLO's is multi-line),
     * the message sent after 354, then {@code after} (null: wait for the server to close).
     */
    private String deliver(ScriptedServer.Script server, String after) throws Exception {
        try (ScriptedServer s = new ScriptedServer(server); ProxyRunner p = proxy("lmtp", s.port(), "", "");
             Socket client = p.connect("127.0.0.1")) {
            assertEquals("220 lmtp ready", readLine(client));
            for (String command : new String[] {"LHLO client", "MAIL FROM:<a@example.com>", "RCPT TO:<b@example.com>",
                    "RCPT TO:<c@example.com>", "DATA"}) {
                write(client, command + "\r\n");
                String reply;
                do {
                    reply = readLine(client);
                } while (reply != null && reply.charAt(3) == '-');
            }
            write(client, "Subject: x\r\n\r\nbody\r\n.\r\n");
            if (after != null) {
                readLine(client);
                readLine(client);
                write(client, after + "\r\n");
            }
            while (readLine(client) != null) {
                // what the server says until it closes
            }
            return p.lineOf(client, Duration.ofSeconds(10));
        }
    }

    @Test
    void anLmtpServerThatVanishesAfterTheEndOfDataIsAnAbortInTransaction() throws Exception {
        String line = deliver(lmtp(s -> write(s, "250 2.0.0 <b@example.com> Saved\r\n")), null);
        assertTrue(line.contains(" SD ") && line.endsWith(" server-abort-in-transaction"),
                "one of two recipients answered, then the server went away: " + line);
    }

    @Test
    void anLmtpServerThatRepliesAndSaysGoodbyeEndsNormally() throws Exception {
        String line = deliver(lmtp(s -> {
            write(s, "250 2.0.0 <b@example.com> Saved\r\n250 2.0.0 <c@example.com> Saved\r\n");
            readLine(s);
            write(s, "221 2.0.0 Bye\r\n");
        }), "QUIT");
        assertTrue(line.contains(" -- ") && line.endsWith(" ok"), line);
    }

    @Test
    void anLmtpServerThatVanishesBetweenTransactionsIsAServerAbort() throws Exception {
        String line = deliver(lmtp(s -> {
            write(s, "250 2.0.0 Saved\r\n250 2.0.0 Saved\r\n");
            readLine(s);
        }), "NOOP");
        assertTrue(line.contains(" SD ") && line.endsWith(" server-abort"), line);
    }

    /** The client half-closes; the server neither answers nor closes: timeout.server-fin ends it. */
    @Test
    void aServerThatDoesNotFinishAfterTheClientsFinIsClosedAfterServerFin() throws Exception {
        try (ScriptedServer s = new ScriptedServer(c -> {
                 write(c, "* OK ready\r\n");
                 neverRead(c);
             });
             ProxyRunner p = proxy("imap", s.port(), "", ", timeout.server-fin = 1s");
             Socket client = p.connect("127.0.0.1")) {
            assertEquals("* OK ready", readLine(client));
            client.shutdownOutput();
            assertNull(readLine(client), "closed by mailproxy");
            String line = p.lineOf(client, Duration.ofSeconds(10));
            assertTrue(line.contains(" sD ") && line.contains(" server-fin-timeout"), line);
        }
    }
}
