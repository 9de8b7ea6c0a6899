package io.mailproxy.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

class SessionLogTest {

    /** 21 Nov 2026 10:15:02.114 in this machine's zone, the zone the line is printed in. */
    private static final long ACCEPTED = LocalDateTime.of(2026, 11, 21, 10, 15, 2, 114_000_000)
            .atZone(ZoneId.systemDefault()).toInstant().toEpochMilli();

    private static SessionLog record(InetSocketAddress client, boolean tls, String server, long connect,
                                     Termination t, String detail) {
        return new SessionLog(client, ACCEPTED, "imaps", tls, "imap-pool", server, 0, connect, 5012,
                1380, 212, t.state('D'), t, 3, 2, 2, 1, 0, 0, 0, detail);
    }

    @Test
    void formatIsHaproxyTcplogShaped() {
        SessionLog log = record(new InetSocketAddress("127.0.0.2", 51234), true, "dc1", 1, Termination.NORMAL, null);
        assertEquals("127.0.0.2:51234 [21/Nov/2026:10:15:02.114] imaps~ imap-pool/dc1 0/1/5012 1380 -- 3/2/2/1/0 0/0 212 ok",
                log.format());
    }

    @Test
    void plaintextNoServerAndDetail() {
        SessionLog log = record(new InetSocketAddress("127.0.0.2", 51234), false, null, -1, Termination.NO_SERVER,
                "connect refused");
        assertEquals("127.0.0.2:51234 [21/Nov/2026:10:15:02.114] imaps imap-pool/<NOSRV> 0/-1/5012 1380 SC "
                + "3/2/2/1/0 0/0 212 no-server: connect refused", log.format());
    }

    @Test
    void ipv6AndUnresolvedClients() {
        assertTrue(record(new InetSocketAddress("::1", 993), true, "dc1", 1, Termination.IDLE_TIMEOUT, "")
                .format().startsWith("::1:993 [21/Nov/2026:10:15:02.114] imaps~ "), "IPv6 in its short form, as HAProxy logs it");
        assertTrue(record(InetSocketAddress.createUnresolved("client.example", 7), true, "dc1", 1,
                Termination.IDLE_TIMEOUT, "").format().startsWith("client.example:7 ["));
        // An empty detail adds nothing after the reason.
        assertTrue(record(new InetSocketAddress("::1", 993), true, "dc1", 1, Termination.IDLE_TIMEOUT, "")
                .format().endsWith(" cD 3/2/2/1/0 0/0 212 idle-timeout"));
    }

    @Test
    void terminationCodesAreTwoCharactersAndReasonsAreUnique() {
        for (Termination t : Termination.values()) {
            assertEquals(2, t.state().length(), t.name());
            assertTrue(t.state('Q').matches("[-CSPRDKcs][-RQCD]"), t.name() + " " + t.state('Q'));
            assertTrue(t.reason().matches("[a-z][a-z-]*"), t.name());
        }
        List<String> reasons = Arrays.stream(Termination.values()).map(Termination::reason).toList();
        assertEquals(reasons.size(), new HashSet<>(reasons).size(), reasons.toString());
        assertEquals("cD", Termination.IDLE_TIMEOUT.state());
        assertEquals("idle-timeout", Termination.IDLE_TIMEOUT.reason());
    }

    /**
     * HAProxy's tcplog layout as its documented parsers read it (HAProxy's doc/configuration.txt,
     * 8.2.2): the fields up to %sq/%bq keep HAProxy's order and meaning, mailproxy's own follow.
     */
    @Test
    void aTcplogParserReadsTheLine() {
        String line = record(new InetSocketAddress("192.0.2.7", 40000), true, "dc1", 12, Termination.SERVER_ABORT,
                "server closed").format();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                "^(\\S+):(\\d+) \\[([^\\]]+)\\] (\\S+) (\\S+)/(\\S+) (-?\\d+)/(-?\\d+)/(\\d+) (\\d+) (\\S\\S) "
                        + "(\\d+)/(\\d+)/(\\d+)/(\\d+)/(\\d+) (\\d+)/(\\d+)( .*)?$").matcher(line);
        assertTrue(m.matches(), line);
        assertEquals("imaps~", m.group(4));
        assertEquals("12", m.group(8));
        assertEquals("1380", m.group(10), "%B: bytes to the client");
        assertEquals("SD", m.group(11));
        assertEquals(" 212 server-abort: server closed", m.group(19), "mailproxy's fields come last");
    }

    @Test
    void oneLineFormatterHasNoStackTrace() {
        LogSetup.OneLine f = new LogSetup.OneLine();
        LogRecord r = new LogRecord(Level.WARNING, "cannot connect");
        r.setLoggerName("io.mailproxy.backend.BackendConnector");
        r.setMillis(ACCEPTED);
        r.setThrown(new java.io.IOException("Connection refused"));
        String line = f.format(r);
        assertTrue(line.endsWith(" WARNING BackendConnector: cannot connect: java.io.IOException: Connection refused"
                + System.lineSeparator()), line);
        assertTrue(line.startsWith("2026-11-21T10:15:02.114"), line);
        assertEquals(1, line.lines().count());
        r.setLoggerName("mailproxy.session");
        r.setThrown(null);
        assertTrue(f.format(r).contains(" WARNING mailproxy.session: cannot connect" + System.lineSeparator()));
    }
}
