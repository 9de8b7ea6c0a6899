package io.mailproxy;

import static io.mailproxy.session.ScriptedServer.readLine;
import static io.mailproxy.session.ScriptedServer.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.session.ProxyRunner;
import io.mailproxy.session.ScriptedServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mailproxy run} in a child JVM, signalled as systemd and admins do: SIGHUP reloads it;
 * SIGTERM lets an LMTP delivery in flight get its reply before the session is closed, cuts IMAP at
 * once and logs both as stopped; a standard output nobody reads does not hold up a single session.
 */
class StopAndSignalsTest {

    @TempDir
    Path dir;

    private Path config(String body) throws IOException {
        return Files.writeString(Files.createTempFile(dir, "run", ".conf"), "mailproxy {\n  run-as-root = true\n" + body + "\n}\n");
    }

    private static Socket connect(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.setSoTimeout(20_000);
        return s;
    }

    @Test
    void sighupAndTheReloadCommandReloadWithoutStoppingAndABrokenFileChangesNothing() throws Exception {
        int port = ProxyRunner.freePort();
        String body = """
                frontends { imap { bind = ["127.0.0.1:%d"], backend = pool } }
                backends { pool { send-proxy = none, servers = [ { name = s1, address = "127.0.0.1:%d" } ] } }
                """;
        try (ScriptedServer one = new ScriptedServer(s -> {
                 write(s, "* OK one\r\n");
                 readLine(s);
                 write(s, "* one still here\r\n");
             });
             ScriptedServer two = new ScriptedServer(s -> write(s, "* OK two\r\n"))) {
            Path file = config(body.formatted(port, one.port()));
            try (MailproxyProcess child = MailproxyProcess.start(file, true);
                 Socket before = awaitStarted(child, port)) {
                assertEquals("* OK one", readLine(before));
                // s1 is replaced by s2: the open session stays on s1, new ones go to s2
                Files.writeString(file, "mailproxy {\n  run-as-root = true\n" + body.formatted(port, two.port())
                        .replace("name = s1", "name = s2") + "\n}\n");
                child.signal("HUP");
                assertTrue(child.awaitLine("configuration reloaded: server pool/s2 added; server pool/s1 removed",
                        Duration.ofSeconds(30)), child.output());
                try (Socket after = connect(port)) {
                    assertEquals("* OK two", readLine(after), "a new session uses the new configuration");
                }
                write(before, "a NOOP\r\n");
                assertEquals("* one still here", readLine(before), "the session opened before goes on");

                // A broken file: refused whole, with its line, and the running configuration stays.
                Files.writeString(file, "mailproxy {\n  run-as-root = true\n" + body.formatted(port, one.port())
                        .replace("send-proxy = none", "send-proxy = nonsense") + "\n}\n");
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                ByteArrayOutputStream err = new ByteArrayOutputStream();
                assertEquals(Main.BAD_CONFIG, Main.run(new String[] {"reload", "--config", file.toString()},
                        new PrintStream(out, true), new PrintStream(err, true)), "reload of a broken file");
                assertTrue(err.toString().contains(file + ":4: mailproxy.backends.pool.send-proxy"), err.toString());
                child.signal("HUP");
                assertTrue(child.awaitLine("reload refused, the running configuration stays", Duration.ofSeconds(30)),
                        child.output());
                assertTrue(child.awaitLine(file + ":4: mailproxy.backends.pool.send-proxy", Duration.ofSeconds(5)),
                        child.output());
                try (Socket after = connect(port)) {
                    assertEquals("* OK two", readLine(after), "the broken file changed nothing");
                }

                // `mailproxy reload --config FILE` finds the process running that file and signals it.
                Files.writeString(file, "mailproxy {\n  run-as-root = true\n" + body.formatted(port, one.port()) + "\n}\n");
                assertEquals(Main.OK, Main.run(new String[] {"reload", "--config", file.toString()},
                        new PrintStream(out, true), new PrintStream(err, true)), err.toString());
                assertTrue(out.toString().contains("asked process " + child.process.pid() + " to reload"), out.toString());
                assertTrue(child.awaitLine("configuration reloaded: server pool/s1 added; server pool/s2 removed",
                        Duration.ofSeconds(30)), child.output());
                assertTrue(child.process.isAlive());
                // Negative control: SIGTERM does stop it, so the liveness above means something.
                child.signal("TERM");
                assertTrue(child.process.waitFor(20, TimeUnit.SECONDS), child.output());
                assertEquals(143, child.process.exitValue());
            }
        }
    }

    /** The reload command with no process running the file says so and fails. */
    @Test
    void reloadWithoutARunningProcessFails() throws Exception {
        Path file = config("""
                frontends { imap { bind = ["127.0.0.1:%d"], backend = pool } }
                backends { pool { send-proxy = none, servers = [ { name = s1, address = "127.0.0.1:1" } ] } }
                """.formatted(ProxyRunner.freePort()));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(Main.FAILED, Main.run(new String[] {"reload", "--config", file.toString()},
                new PrintStream(new ByteArrayOutputStream(), true), new PrintStream(err, true)));
        assertTrue(err.toString().contains("no running mailproxy uses"), err.toString());
    }

    private static Socket awaitStarted(MailproxyProcess child, int port) throws IOException {
        assertTrue(child.awaitLine("mailproxy started", Duration.ofSeconds(30)), child.output());
        return connect(port);
    }

    private static ScriptedServer lmtpServer(CountDownLatch replyNow) throws IOException {
        return new ScriptedServer(s -> {
            write(s, "220 lmtp ready\r\n");
            for (String reply : new String[] {"250 lmtp\r\n", "250 2.1.0 Ok\r\n", "250 2.1.5 Ok\r\n", "354 OK\r\n"}) {
                readLine(s);
                write(s, reply);
            }
            String line;
            while ((line = readLine(s)) != null && !line.equals(".")) {
                // the message
            }
            replyNow.await();
            write(s, "250 2.0.0 <b@example.com> Saved\r\n");
            if ("QUIT".equals(readLine(s))) {
                write(s, "221 2.0.0 Bye\r\n");
            }
        });
    }

    /** Sends a message up to its end of DATA; the server's reply is then outstanding. */
    private static void deliverUpToTheDot(Socket client) throws IOException {
        assertEquals("220 lmtp ready", readLine(client));
        for (String command : new String[] {"LHLO client", "MAIL FROM:<a@example.com>", "RCPT TO:<b@example.com>", "DATA"}) {
            write(client, command + "\r\n");
            readLine(client);
        }
        write(client, "Subject: x\r\n\r\nbody\r\n.\r\n");
    }

    private static String twoFrontends(int lmtpPort, int imapPort, String lmtpKeys, int lmtpServer, int imapServer) {
        return """
                frontends {
                  lmtp { bind = ["127.0.0.1:%d"], protocol = lmtp, backend = lmtp %s }
                  imap { bind = ["127.0.0.1:%d"], protocol = imap, backend = imap }
                }
                backends {
                  lmtp { send-proxy = none, servers = [ { name = s1, address = "127.0.0.1:%d" } ] }
                  imap { send-proxy = none, servers = [ { name = s1, address = "127.0.0.1:%d" } ] }
                }
                """.formatted(lmtpPort, lmtpKeys, imapPort, lmtpServer, imapServer);
    }

    @Test
    void sigtermLetsAnLmtpDeliveryGetItsReplyAndCutsImapAtOnce() throws Exception {
        int lmtpPort = ProxyRunner.freePort();
        int imapPort = ProxyRunner.freePort();
        CountDownLatch replyNow = new CountDownLatch(1);
        try (ScriptedServer lmtp = lmtpServer(replyNow);
             ScriptedServer imap = new ScriptedServer(s -> {
                 write(s, "* OK imap\r\n");
                 ScriptedServer.drain(s);
             });
             MailproxyProcess child = MailproxyProcess.start(config(twoFrontends(lmtpPort, imapPort, "", lmtp.port(), imap.port())), true)) {
            assertTrue(child.awaitLine("mailproxy started", Duration.ofSeconds(30)), child.output());
            try (Socket mta = connect(lmtpPort); Socket mua = connect(imapPort)) {
                assertEquals("* OK imap", readLine(mua));
                deliverUpToTheDot(mta);
                child.signal("TERM");
                assertTrue(child.awaitLine("stopping", Duration.ofSeconds(10)), child.output());
                assertNull(readLine(mua), "IMAP is closed at once: its clients reconnect");
                replyNow.countDown();
                assertEquals("250 2.0.0 <b@example.com> Saved", readLine(mta), "the delivery's reply reaches the MTA");
                assertNull(readLine(mta), "then the session is closed: no delivery is in flight any more");
            }
            assertTrue(child.process.waitFor(30, TimeUnit.SECONDS), child.output());
            assertTrue(child.awaitLine(" lmtp lmtp/s1 ", Duration.ofSeconds(5)), child.output());
            String lmtpLine = child.lines.stream().filter(l -> l.contains(" lmtp lmtp/s1 ")).findFirst().orElseThrow();
            String imapLine = child.lines.stream().filter(l -> l.contains(" imap imap/s1 ")).findFirst().orElseThrow();
            assertTrue(lmtpLine.contains(" KD ") && lmtpLine.contains(" stopping"), lmtpLine);
            assertTrue(imapLine.contains(" KD ") && imapLine.contains(" stopping"), imapLine);
            assertTrue(child.lines.stream().anyMatch(l -> l.endsWith("INFO Main: stopped")), child.output());
        }
    }

    /** Negative control: with shutdown-grace = 0s the delivery is cut before its reply. */
    @Test
    void withoutGraceTheDeliveryIsCutBeforeItsReply() throws Exception {
        int lmtpPort = ProxyRunner.freePort();
        int imapPort = ProxyRunner.freePort();
        CountDownLatch replyNow = new CountDownLatch(1);
        try (ScriptedServer lmtp = lmtpServer(replyNow);
             ScriptedServer imap = new ScriptedServer(s -> write(s, "* OK imap\r\n"));
             MailproxyProcess child = MailproxyProcess.start(config(twoFrontends(lmtpPort, imapPort, ", shutdown-grace = 0s", lmtp.port(),
                     imap.port())), true)) {
            assertTrue(child.awaitLine("mailproxy started", Duration.ofSeconds(30)), child.output());
            try (Socket mta = connect(lmtpPort)) {
                deliverUpToTheDot(mta);
                child.signal("TERM");
                assertNull(readLine(mta), "cut without the reply");
                replyNow.countDown();
            }
            assertTrue(child.process.waitFor(30, TimeUnit.SECONDS), child.output());
        }
    }

    /** 600 sessions through a process whose standard output nobody reads: every one is served. */
    @Test
    void aStalledStandardOutputHoldsUpNoSession() throws Exception {
        Path log = runSessionsWhileOutput(false);
        String out = Files.readString(log);
        assertTrue(out.contains("log line(s) dropped"), "lines were dropped, not waited for:\n" + tail(out));
    }

    /** Negative control: read, the same output carries every session line and drops nothing. */
    @Test
    void aReadStandardOutputGetsEveryLine() throws Exception {
        String out = Files.readString(runSessionsWhileOutput(true));
        assertFalse(out.contains("dropped"), tail(out));
        assertTrue(out.lines().filter(l -> l.contains(" imap pool/s1 ")).count() >= SESSIONS, tail(out));
    }

    private static final int SESSIONS = 600;

    /** Runs the sessions; returns the child's whole output, read after the sessions when {@code read} is false. */
    private Path runSessionsWhileOutput(boolean read) throws Exception {
        int port = ProxyRunner.freePort();
        Path out = dir.resolve(read ? "read.out" : "unread.out");
        try (ScriptedServer server = new ScriptedServer(s -> {
                 write(s, "* OK hello\r\n");
                 readLine(s);
                 write(s, "* BYE bye\r\na OK done\r\n");
             });
             MailproxyProcess child = MailproxyProcess.start(config("""
                     log.max-pending-lines = 16
                     frontends { imap { bind = ["127.0.0.1:%d"], backend = pool } }
                     backends { pool { send-proxy = none, servers = [ { name = s1, address = "127.0.0.1:%d" } ] } }
                     """.formatted(port, server.port())), read)) {
            assertTrue(ProxyRunner.await(() -> {
                try (Socket probe = connect(port)) {
                    return readLine(probe) != null;
                } catch (IOException e) {
                    return false;
                }
            }, Duration.ofSeconds(30)), "started");
            for (int i = 0; i < SESSIONS; i++) {
                try (Socket client = connect(port)) {
                    client.setSoTimeout(10_000);
                    assertEquals("* OK hello", readLine(client), "session " + i);
                    write(client, "a LOGOUT\r\n");
                    assertEquals("* BYE bye", readLine(client), "session " + i);
                }
            }
            if (!read) {
                child.readOutput();
            }
            child.signal("TERM");
            assertTrue(child.process.waitFor(30, TimeUnit.SECONDS));
            assertTrue(ProxyRunner.await(() -> child.lines.stream().anyMatch(l -> l.contains("(output closed)")
                    || l.endsWith("Main: stopped")), Duration.ofSeconds(10)));
            Files.writeString(out, child.output());
        }
        return out;
    }

    private static String tail(String text) {
        return text.length() < 4000 ? text : text.substring(text.length() - 4000);
    }
}
