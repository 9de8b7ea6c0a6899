package io.mailproxy.it.health;

import static io.mailproxy.it.health.HealthFixture.await;
import static io.mailproxy.it.health.HealthFixture.checkedUp;
import static io.mailproxy.it.health.HealthFixture.freePort;
import static io.mailproxy.it.health.HealthFixture.greet;
import static io.mailproxy.it.health.HealthFixture.linesBetween;
import static io.mailproxy.it.health.HealthFixture.servedGreeting;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.MailProxy;
import io.mailproxy.backend.Backend;
import io.mailproxy.backend.Server;
import io.mailproxy.dovecot.Dovecot;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * IMAP, POP3 and LMTP checks against real Dovecots through their {@code haproxy = yes} listeners
 * (v2 LOCAL header): a stopped Dovecot is marked DOWN after {@code fall} failed checks, its traffic
 * goes to the other one, it is UP again after {@code rise} passed checks once restarted on the same
 * ports, and the checks leave nothing in Dovecot's log but polite logouts. One proxy with one backend
 * per protocol, so one stop and one restart exercise all three checks.
 *
 * <p>"In time" is counted in checks, not milliseconds: each UP/DOWN line is taken with the number of
 * the check result that caused it ({@link HealthFixture.Transitions}), which a loaded machine cannot
 * skew. Check timeouts (5 s) leave a cold Dovecot room to answer.
 */
@Tag("dovecot")
class HealthCheckFailoverTest {

    private static final List<String> PROTOCOLS = List.of("imap", "pop3", "lmtp");
    private static final int INTERVAL_MS = 500;
    private static final int RISE = 2;
    private static final int FALL = 2;
    private static final int TIMEOUT_MS = 5000;
    /** Only bounds how long a broken build waits; the assertions count checks. */
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void stoppedDovecotIsDownInTimeAndUpAgainAfterRestart() throws Exception {
        try (Dovecot dc1 = Dovecot.start("hc1"); Dovecot dc2 = Dovecot.start("hc2")) {
            int dc1StartLines = dc1.logLines().size();
            int dc2StartLines = dc2.logLines().size();
            int dc1StopLines;
            int restartedStartLines;
            int dc2EndLines;
            int restartedEndLines;
            Map<String, Integer> frontendPorts = new LinkedHashMap<>();
            StringBuilder frontends = new StringBuilder();
            StringBuilder backends = new StringBuilder();
            for (String protocol : PROTOCOLS) {
                int port = freePort();
                frontendPorts.put(protocol, port);
                frontends.append("    ").append(protocol).append(" { bind = [\"127.0.0.1:").append(port)
                        .append("\"], protocol = ").append(protocol).append(", backend = ").append(protocol).append(" }\n");
                backends.append("""
                            %s {
                              balance = roundrobin
                              send-proxy = v2
                              servers = [
                                { name = dc1, address = "127.0.0.1:%d" },
                                { name = dc2, address = "127.0.0.1:%d" }
                              ]
                              health-check {
                                type = %s
                                send-proxy = local
                                interval = %dms, fast-interval = %dms, down-interval = %dms
                                rise = %d, fall = %d, timeout = %dms
                              }
                            }
                        """.formatted(protocol, dc1.ports().haproxy(protocol), dc2.ports().haproxy(protocol), protocol,
                        INTERVAL_MS, INTERVAL_MS, INTERVAL_MS, RISE, FALL, TIMEOUT_MS));
            }
            try (MailProxy proxy = HealthFixture.proxy(dir, "mailproxy {\n  frontends {\n" + frontends
                    + "  }\n  backends {\n" + backends + "  }\n}\n");
                 HealthFixture.Transitions transitions = HealthFixture.Transitions.record(proxy)) {
                List<Server> all = new ArrayList<>();
                for (Backend b : proxy.backends().values()) {
                    all.addAll(b.servers());
                }
                await("every server checked and UP", WAIT, () -> checkedUp(all, proxy));
                for (String protocol : PROTOCOLS) {
                    assertServedBy(proxy, protocol, frontendPorts.get(protocol), 4, Map.of("dc1", 2L, "dc2", 2L));
                }

                // Stop dc1: every backend must see it DOWN at its fall-th failed check. Checks
                // counted while the stop runs may still pass; after it, one check in flight may.
                await("dc1 checked UP before the stop", WAIT, () -> checkedUp(servers(proxy, "dc1"), proxy));
                Map<String, Long> beforeStop = results(proxy, "dc1");
                dc1.stop();
                dc1StopLines = dc1.logLines().size();
                Map<String, Long> afterStop = results(proxy, "dc1");
                for (String protocol : PROTOCOLS) {
                    Server s = proxy.backends().get(protocol).server("dc1");
                    // the state changes first, its line is logged just after: wait for the line
                    await(protocol + " dc1 DOWN", WAIT, () -> !s.isUp() && transitions.has(protocol, "dc1", false));
                    long down = transitions.last(protocol, "dc1", false).result();
                    assertTrue(down >= beforeStop.get(protocol) + FALL && down <= afterStop.get(protocol) + FALL + 1,
                            protocol + ": DOWN at check " + down + "; the stop ran from check " + beforeStop.get(protocol)
                                    + " to " + afterStop.get(protocol) + ", fall " + FALL);
                    assertTrue(proxy.backends().get(protocol).server("dc2").isUp(), protocol + " dc2 stays UP");
                }
                // Meanwhile every new session goes to dc2 (and is served: the greeting arrives).
                for (String protocol : PROTOCOLS) {
                    assertServedBy(proxy, protocol, frontendPorts.get(protocol), 4, Map.of("dc1", 0L, "dc2", 4L));
                }

                // Restart on the same ports: UP at its rise-th passed check. Checks counted while
                // it starts may fail; after it is up, one failed check may have been in flight.
                Map<String, Long> beforeRestart = results(proxy, "dc1");
                dc1.restart();
                // its readiness probes (127.0.0.254) are no check lines, wherever they land
                restartedStartLines = dc1.logLines().size();
                Map<String, Long> afterRestart = results(proxy, "dc1");
                for (String protocol : PROTOCOLS) {
                    Server s = proxy.backends().get(protocol).server("dc1");
                    await(protocol + " dc1 UP", WAIT, () -> s.isUp() && transitions.has(protocol, "dc1", true));
                    long up = transitions.last(protocol, "dc1", true).result();
                    assertTrue(up >= beforeRestart.get(protocol) + RISE && up <= afterRestart.get(protocol) + RISE + 1,
                            protocol + ": UP at check " + up + "; the restart ran from check "
                                    + beforeRestart.get(protocol) + " to " + afterRestart.get(protocol) + ", rise " + RISE);
                }
                for (String protocol : PROTOCOLS) {
                    assertServedBy(proxy, protocol, frontendPorts.get(protocol), 4, Map.of("dc1", 2L, "dc2", 2L));
                }
                // Stopping the proxy cuts the checks in flight (Dovecot then logs e.g. LMTP
                // "state=GREETING"): only what the running checks left is inspected.
                dc2EndLines = dc2.logLines().size();
                restartedEndLines = dc1.logLines().size();
            }
            assertPolite(dc1, linesBetween(dc1, dc1StartLines, dc1StopLines), "dc1 before its stop");
            assertPolite(dc2, linesBetween(dc2, dc2StartLines, dc2EndLines), "dc2");
            assertPolite(dc1, linesBetween(dc1, restartedStartLines, restartedEndLines), "dc1 after its restart");
        }
    }

    /** The server of that name in each protocol's backend. */
    private static List<Server> servers(MailProxy proxy, String name) {
        return PROTOCOLS.stream().map(p -> proxy.backends().get(p).server(name)).toList();
    }

    /** Check results so far of the server of that name, by protocol. */
    private static Map<String, Long> results(MailProxy proxy, String name) {
        Map<String, Long> results = new LinkedHashMap<>();
        for (String protocol : PROTOCOLS) {
            results.put(protocol, HealthFixture.results(proxy, proxy.backends().get(protocol).server(name)));
        }
        return results;
    }

    /**
     * The checks left lines for every protocol, and only polite ones: no PROXY-protocol complaint,
     * no "disconnected before greeting"-style line ({@link CheckProxyHeaderTest} shows this
     * assertion failing on a header-less check).
     */
    private static void assertPolite(Dovecot dc, List<String> lines, String which) {
        List<String> checks = CheckNoise.checkLines(lines);
        for (String service : List.of("imap-login:", "pop3-login:", "lmtp(")) {
            assertTrue(checks.stream().anyMatch(l -> l.contains(service)), which + ": no check line of " + service
                    + " in\n" + String.join("\n", lines));
        }
        assertEquals(List.of(), CheckNoise.noise(lines, dc.version()), which + ": lines other than polite check logouts");
    }

    /** {@code n} sessions through the frontend; each must be greeted and land as {@code expected} says. */
    private static void assertServedBy(MailProxy proxy, String protocol, int port, int n, Map<String, Long> expected) {
        Backend backend = proxy.backends().get(protocol);
        Map<String, Long> before = new LinkedHashMap<>();
        backend.servers().forEach(s -> before.put(s.name(), s.totalSessions()));
        Pattern served = servedGreeting(protocol);
        for (int i = 0; i < n; i++) {
            String greeting = greet(port, protocol);
            assertTrue(greeting != null && served.matcher(greeting).find(), protocol + " greeting: " + greeting);
        }
        Map<String, Long> placed = new LinkedHashMap<>();
        backend.servers().forEach(s -> placed.put(s.name(), s.totalSessions() - before.get(s.name())));
        assertEquals(expected, placed, protocol + " sessions per server");
    }
}
