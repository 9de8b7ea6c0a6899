package io.mailproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.dovecot.Dovecot;
import io.mailproxy.dovecot.DovecotException;
import io.mailproxy.dovecot.DovecotOptions;
import io.mailproxy.dovecot.DovecotTarget;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The harness itself against the run's target: it starts what was asked for, its probes stay apart
 * from clients and checks, and stop, kill and restart do what a test relies on.
 */
@Tag("dovecot")
class DovecotHarnessTest {

    private static final String HOST = "127.0.0.1";
    private static final Duration LOG_WAIT = Duration.ofSeconds(30);

    @Test
    void startsTheTargetOfThisRun() {
        DovecotTarget target = DovecotTarget.current();
        assertNull(Dovecot.unavailableReason(target));
        try (Dovecot dc = Dovecot.start("dcversion")) {
            assertEquals(target, dc.target());
            assertTrue(dc.versionString().startsWith(target.version().label() + "."), dc.versionString());
            System.out.println("Dovecot target " + target + ": " + dc.versionString());
        }
    }

    /** Readiness probes come from 127.0.0.254, so a test never takes them for a client or a check (127.0.0.1). */
    @Test
    void probesComeFromTheirOwnAddress() {
        try (Dovecot dc = Dovecot.start("dcprobe")) {
            dc.awaitLogCount(Pattern.compile("rip=127\\.0\\.0\\.254, "), 4, LOG_WAIT);
            dc.awaitLogCount(Pattern.compile("lmtp\\(\\d+\\): Info: Connect from 127\\.0\\.0\\.254$"), 2, LOG_WAIT);
            assertEquals(0, dc.countLog(Pattern.compile("rip=127\\.0\\.0\\.1\\b|from 127\\.0\\.0\\.1\\b")),
                    dc.logTail(20));
        }
    }

    /**
     * kill() ends Dovecot at once: an open session is cut without Dovecot's goodbye; restart() brings
     * it back on the same ports with the mail it had; stop() is a polite SIGTERM.
     */
    @Test
    void killCutsSessionsAndRestartKeepsPortsAndMail() throws IOException {
        try (Dovecot dc = Dovecot.start("dckill")) {
            int port = dc.ports().imapHaproxy();
            deliver(dc, "kim@example.com", "before the kill");
            try (TextSession s = TextSession.open(HOST, port, TextSession.v2("127.0.0.2", 5555, "127.0.0.1", 993, true))) {
                assertTrue(s.readLine().startsWith("* OK"));
                assertTrue(last(s.imap("a", "LOGIN kim demo")).startsWith("a OK"));
                dc.kill();
                assertFalse(dc.isRunning());
                String rest = s.readRest();
                assertFalse(rest.contains("* BYE"), "no goodbye from a killed Dovecot: " + rest);
            }
            dc.restart();
            assertTrue(dc.isRunning());
            assertEquals(port, dc.ports().imapHaproxy());
            try (TextSession s = TextSession.open(HOST, port, TextSession.v2("127.0.0.2", 5556, "127.0.0.1", 993, true))) {
                assertTrue(s.readLine().startsWith("* OK"));
                assertTrue(last(s.imap("a", "LOGIN kim demo")).startsWith("a OK"));
                List<String> select = s.imap("b", "SELECT INBOX");
                assertTrue(select.contains("* 1 EXISTS"), "the mail from before the kill: " + select);
                s.imap("c", "LOGOUT");
            }
            dc.stop();
            assertFalse(dc.isRunning());
            dc.awaitLog(Pattern.compile("master: Warning: Killed with signal 15"), LOG_WAIT);
        }
    }

    /** Negative control for the launcher: a taken port fails start with Dovecot's own reason. */
    @Test
    void takenPortFailsStartWithTheReason() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            DovecotException e = assertThrows(DovecotException.class, () -> Dovecot.start(
                    DovecotOptions.builder().name("dctaken").imapPort(taken.getLocalPort()).build()));
            assertTrue(e.getMessage().contains("listen(127.0.0.1, " + taken.getLocalPort()
                    + ") failed: Address already in use"), e.getMessage());
        }
    }

    @Test
    void closeStopsDovecotAndDeletesTheBaseDir() {
        Dovecot dc = Dovecot.start("dcclose");
        Path base = dc.baseDir();
        assertTrue(dc.isRunning());
        assertTrue(base.toString().length() < 60, base.toString());
        dc.close();
        assertFalse(dc.isRunning());
        assertFalse(Files.exists(base), base.toString());
    }

    private static void deliver(Dovecot dc, String to, String text) throws IOException {
        try (TextSession s = TextSession.open(HOST, dc.ports().lmtp(), new byte[0])) {
            assertTrue(s.readLine().startsWith("220 "));
            assertTrue(s.lhlo("mx.example.com").startsWith("250 "));
            assertTrue(s.command("MAIL FROM:<sender@example.net>").startsWith("250 "));
            assertTrue(s.command("RCPT TO:<" + to + ">").startsWith("250 "));
            assertTrue(s.command("DATA").startsWith("354"));
            assertTrue(s.command("Subject: harness\r\n\r\n" + text + "\r\n.").startsWith("250 2.0.0"));
            s.command("QUIT");
        }
    }

    private static String last(List<String> lines) {
        return lines.get(lines.size() - 1);
    }
}
