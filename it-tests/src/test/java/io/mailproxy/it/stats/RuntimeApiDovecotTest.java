package io.mailproxy.it.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.log.LogCapture;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Each runtime API command, sent through {@code socat} as admins send HAProxy's, with its effect
 * checked through real IMAP sessions to two real Dovecots (the greeting names the one that
 * answered). Each test has its own mailproxy; the Dovecots are shared. Not tagged {@code dovecot}:
 * what is tested is mailproxy's API, which does not change with the Dovecot version.
 */
class RuntimeApiDovecotTest extends TwoDovecots {

    /** The client addresses 127.0.0.{from} .. {from+n-1}, each new to the stick table. */
    private static List<String> clients(int from, int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add("127.0.0." + (from + i));
        }
        return out;
    }

    @Test
    void helpInfoAndSocketMode() throws Exception {
        try (StatsFixture f = StatsFixture.start(dir, dc1, dc2, "")) {
            String help = f.socat("help");
            for (String c : List.of("show info", "show stat", "show servers state", "show sess", "show table",
                    "clear table", "set server", "enable health", "disable health", "set maxconn server",
                    "shutdown sessions server")) {
                assertTrue(help.contains(c), c + " in\n" + help);
            }
            String info = f.socat("show info");
            assertTrue(info.startsWith("Name: mailproxy\n"), info);
            assertTrue(info.contains("\nPid: " + ProcessHandle.current().pid() + "\n"), info);
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f.socket)));
            assertTrue(f.socat("set server pool/nope state drain").startsWith("No such server."));
            assertTrue(f.socat("set server nope/dc1 state drain").startsWith("No such backend."));
            assertTrue(f.socat("frobnicate").startsWith("Unknown command"));
        }
    }

    /**
     * DRAIN: new clients all go to dc2, a client the stick table holds on dc1 still goes there, and a
     * session open on dc1 stays. Negative control: READY again, new clients reach dc1 too.
     */
    @Test
    void drainKeepsStickyClientsOnly() throws Exception {
        try (StatsFixture f = StatsFixture.start(dir, dc1, dc2, "")) {
            String sticky = null;
            for (String c : clients(10, 4)) {
                if (f.session(c).equals("dc1")) {
                    sticky = c;
                }
            }
            assertTrue(sticky != null, "round robin sent one of four clients to dc1");
            try (StatsFixture.Imap open = f.open(sticky)) {
                assertEquals("dc1", open.server);
                assertEquals("\n", f.socat("set server pool/dc1 state drain"));
                assertEquals("DRAIN", StatsFixture.csvField(f.socat("show stat"), "pool", "dc1", "status"));
                for (String c : clients(20, 6)) {
                    assertEquals("dc2", f.session(c), c + " is new: a draining server takes none");
                }
                assertEquals("dc1", f.session(sticky), "a sticky client still reaches its draining server");
                open.send("a NOOP");
                assertTrue(open.line().startsWith("a OK"), "the open session stays");
            }
            assertEquals("\n", f.socat("set server pool/dc1 state ready"));
            List<String> after = new ArrayList<>();
            for (String c : clients(30, 4)) {
                after.add(f.session(c));
            }
            assertTrue(after.contains("dc1"), "READY again: new clients reach dc1: " + after);
        }
    }

    /** MAINT: not even a sticky client reaches dc1. Negative control is the DRAIN test's sticky client. */
    @Test
    void maintTakesNoSession() throws Exception {
        try (StatsFixture f = StatsFixture.start(dir, dc1, dc2, "")) {
            String sticky = null;
            for (String c : clients(40, 4)) {
                if (f.session(c).equals("dc1")) {
                    sticky = c;
                }
            }
            assertTrue(sticky != null);
            assertEquals("\n", f.socat("set server pool/dc1 state maint"));
            assertEquals("MAINT", StatsFixture.csvField(f.socat("show stat"), "pool", "dc1", "status"));
            assertTrue(f.socat("show servers state pool").contains(" pool 1 dc1 127.0.0.1 0 1 "),
                    "op state 0, admin state 1 (FMAINT)");
            assertEquals("dc2", f.session(sticky), "in maintenance even sticky clients go elsewhere");
            for (String c : clients(50, 4)) {
                assertEquals("dc2", f.session(c));
            }
        }
    }

    /**
     * Weight 3 against 1: smooth round robin gives dc1 exactly 6 of 8 new clients. Negative control:
     * at the configured weights (1 and 1) it gives 4 of 8.
     */
    @Test
    void weightSharesNewSessions() throws Exception {
        try (StatsFixture f = StatsFixture.start(dir, dc1, dc2, "")) {
            assertEquals(4, count(f, clients(60, 8), "dc1"), "equal weights: half each");
            assertEquals("\n", f.socat("set server pool/dc1 weight 3"));
            assertEquals("3", StatsFixture.csvField(f.socat("show stat"), "pool", "dc1", "weight"));
            assertEquals(6, count(f, clients(70, 8), "dc1"), "weight 3 to 1");
        }
    }

    private static long count(StatsFixture f, List<String> clients, String server) {
        return clients.stream().map(f::session).filter(server::equals).count();
    }

    /**
     * {@code shutdown sessions server}: the sessions open on dc1 end (logged {@code KD killed}), the
     * one on dc2 stays and still answers.
     */
    @Test
    void shutdownSessionsEndsOnlyThatServersSessions() throws Exception {
        try (StatsFixture f = StatsFixture.start(dir, dc1, dc2, "");
             LogCapture log = LogCapture.sessions()) {
            List<StatsFixture.Imap> open = new ArrayList<>();
            try {
                for (String c : clients(80, 4)) {
                    open.add(f.open(c));
                }
                long onDc1 = open.stream().filter(s -> s.server.equals("dc1")).count();
                assertTrue(onDc1 > 0 && onDc1 < 4, "both servers have sessions");
                StatsFixture.await("show sess lists the four sessions",
                        () -> f.socat("show sess").lines().filter(l -> l.contains(" srv=dc")).count() == 4);
                assertEquals("\n", f.socat("shutdown sessions server pool/dc1"));
                for (StatsFixture.Imap s : open) {
                    if (s.server.equals("dc1")) {
                        assertNull(s.readEnd(), "a dc1 session is closed");
                    } else {
                        s.send("a NOOP");
                        assertTrue(s.line().startsWith("a OK"), "a dc2 session stays");
                    }
                }
                log.await(l -> l.contains(" pool/dc1 ") && l.contains(" KD ") && l.contains(" killed"), StatsFixture.WAIT);
            } finally {
                for (StatsFixture.Imap s : open) {
                    s.close();
                }
            }
        }
    }

    /**
     * {@code show table} shows a client's entry and {@code clear table pool key} removes it: with dc1
     * drained, the cleared client goes to dc2. Negative control: before the clear it still went to dc1.
     */
    @Test
    void clearTableForgetsAClient() throws Exception {
        try (StatsFixture f = StatsFixture.start(dir, dc1, dc2, "")) {
            String sticky = null;
            for (String c : clients(90, 4)) {
                if (f.session(c).equals("dc1")) {
                    sticky = c;
                }
            }
            assertTrue(sticky != null);
            assertTrue(f.socat("show table").startsWith("# table: pool, type: ip, size:1024, used:4"), f.socat("show table"));
            assertTrue(f.socat("show table pool key " + sticky).contains("key=" + sticky + " "), "its entry is there");
            assertTrue(f.socat("show table pool key " + sticky).contains("server_key=dc1"));
            f.socat("set server pool/dc1 state drain");
            assertEquals("dc1", f.session(sticky), "control: the entry holds it on the draining dc1");
            assertEquals("\n", f.socat("clear table pool key " + sticky));
            assertTrue(!f.socat("show table pool key " + sticky).contains("key="), "the entry is gone");
            assertEquals("dc2", f.session(sticky), "forgotten: balanced among the READY servers");
            assertTrue(f.socat("clear table nope").startsWith("No such table"));
        }
    }

    /**
     * {@code set maxconn server}: with dc2 in maintenance and dc1 limited to one session, a second
     * client waits in the queue (qcur 1 in {@code show stat}) until the first leaves, then dc1 greets it.
     */
    @Test
    void maxconnQueuesTheExcess() throws Exception {
        try (StatsFixture f = StatsFixture.start(dir, dc1, dc2, "timeout.queue = 30s")) {
            f.socat("set server pool/dc2 state maint");
            assertEquals("\n", f.socat("set maxconn server pool/dc1 1"));
            assertEquals("1", StatsFixture.csvField(f.socat("show stat"), "pool", "dc1", "slim"));
            StatsFixture.Imap first = f.open("127.0.0.100");
            var second = new java.util.concurrent.CompletableFuture<String>();
            Thread t = new Thread(() -> {
                try (StatsFixture.Imap s = f.open("127.0.0.101")) {
                    second.complete(s.server);
                    s.logout();
                } catch (Exception e) {
                    second.completeExceptionally(e);
                }
            });
            t.start();
            StatsFixture.await("the second session queues",
                    () -> "1".equals(StatsFixture.csvField(f.socat("show stat"), "pool", "BACKEND", "qcur")));
            assertTrue(!second.isDone(), "no greeting while it waits");
            first.logout();
            first.close();
            assertEquals("dc1", second.get(StatsFixture.WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS));
            t.join();
            // negative control: no limit, two at once
            assertEquals("\n", f.socat("set maxconn server pool/dc1 0"));
            try (StatsFixture.Imap a = f.open("127.0.0.102"); StatsFixture.Imap b = f.open("127.0.0.103")) {
                assertEquals("dc1", a.server);
                assertEquals("dc1", b.server);
            }
        }
    }

    /**
     * {@code set server health down|up} and {@code disable|enable health} on a checked backend:
     * forced DOWN, dc1 takes no new session; with checks disabled ({@code mp_checks_enabled} 0 in
     * {@code show stat}) it stays DOWN; enabled again, its checks bring it back UP.
     */
    @Test
    void healthForcedAndChecksToggled() throws Exception {
        try (StatsFixture f = StatsFixture.start(dir, dc1, dc2,
                "health-check { type = imap, interval = 200ms, fast-interval = 100ms, down-interval = 200ms, rise = 1 }")) {
            StatsFixture.await("dc1 checked", () -> StatsFixture.csvField(f.socat("show stat"), "pool", "dc1", "check_status")
                    .equals("L7OK"));
            assertEquals("\n", f.socat("disable health pool/dc1"));
            assertEquals("\n", f.socat("set server pool/dc1 health down"));
            StatsFixture.await("dc1 DOWN", () -> StatsFixture.csvField(f.socat("show stat"), "pool", "dc1", "status").equals("DOWN"));
            assertEquals("0", StatsFixture.csvField(f.socat("show stat"), "pool", "dc1", "mp_checks_enabled"));
            for (String c : clients(110, 4)) {
                assertEquals("dc2", f.session(c));
            }
            assertEquals("DOWN", StatsFixture.csvField(f.socat("show stat"), "pool", "dc1", "status"),
                    "checks are off: nothing brings it back");
            assertEquals("\n", f.socat("enable health pool/dc1"));
            StatsFixture.await("dc1 UP by its checks",
                    () -> StatsFixture.csvField(f.socat("show stat"), "pool", "dc1", "status").equals("UP"));
        }
    }
}
