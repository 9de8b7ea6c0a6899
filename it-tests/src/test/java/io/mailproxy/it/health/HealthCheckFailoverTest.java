package io.mailproxy.it.health;

import static io.mailproxy.it.health.HealthFixture.await;
import static io.mailproxy.it.health.HealthFixture.checkedUp;
import static io.mailproxy.it.health.HealthFixture.freePort;
import static io.mailproxy.it.health.HealthFixture.greet;
import static io.mailproxy.it.health.HealthFixture.haproxyPort;
import static io.mailproxy.it.health.HealthFixture.linesBetween;
import static io.mailproxy.it.health.HealthFixture.linesSince;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * IMAP, POP3 and LMTP checks against real Dovecots through their {@code haproxy = yes} listeners
 * (v2 LOCAL header): a stopped Dovecot is marked DOWN in time, its traffic goes to the other one,
 * it is UP again soon after a restart on the same ports, and the checks leave nothing in Dovecot's
 * log but polite logouts. One proxy with one backend per protocol, so one stop and one restart
 * exercise all three checks.
 */
class HealthCheckFailoverTest {

    private static final List<String> PROTOCOLS = List.of("imap", "pop3", "lmtp");
    private static final int INTERVAL_MS = 500;
    private static final int RISE = 2;
    private static final int FALL = 2;
    private static final int TIMEOUT_MS = 1000;
    /**
     * Allowance on top of the HAProxy bounds: the checks' 5 % jitter (spread-checks) and scheduling
     * on a shared 2-core machine. The bounds themselves are 2 s (down) and 1 s (up).
     */
    private static final long SLACK_MS = 400;

    @TempDir
    Path dir;

    @Test
    void stoppedDovecotIsDownInTimeAndUpAgainAfterRestart() throws Exception {
        Dovecot dc1 = Dovecot.start(Dovecot.Options.builder().name("hc1").build());
        Dovecot dc2 = Dovecot.start(Dovecot.Options.builder().name("hc2").build());
        Dovecot restarted = null;
        int restartedStartLines = 0;
        int dc2EndLines = 0;
        int restartedEndLines = 0;
        try {
            int dc1StartLines = dc1.logLines().size();
            int dc2StartLines = dc2.logLines().size();
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
                        """.formatted(protocol, haproxyPort(dc1, protocol), haproxyPort(dc2, protocol), protocol,
                        INTERVAL_MS, INTERVAL_MS, INTERVAL_MS, RISE, FALL, TIMEOUT_MS));
            }
            try (MailProxy proxy = HealthFixture.proxy(dir, "mailproxy {\n  frontends {\n" + frontends
                    + "  }\n  backends {\n" + backends + "  }\n}\n")) {
                List<Server> all = new ArrayList<>();
                for (Backend b : proxy.backends().values()) {
                    all.addAll(b.servers());
                }
                await("every server checked and UP", Duration.ofSeconds(5), () -> checkedUp(all, proxy));
                for (String protocol : PROTOCOLS) {
                    assertServedBy(proxy, protocol, frontendPorts.get(protocol), 4, Map.of("dc1", 2L, "dc2", 2L));
                }

                // Stop dc1: from the moment it is gone, every backend must see it DOWN within
                // fall x interval + timeout.
                dc1.stop();
                long stopped = System.nanoTime();
                long bound = FALL * INTERVAL_MS + TIMEOUT_MS + SLACK_MS;
                for (String protocol : PROTOCOLS) {
                    Server s = proxy.backends().get(protocol).server("dc1");
                    long down = await(protocol + " dc1 DOWN", Duration.ofSeconds(10), () -> !s.isUp());
                    long ms = (down - stopped) / 1_000_000;
                    assertTrue(ms <= bound, protocol + ": DOWN after " + ms + " ms, bound " + bound + " ms");
                    assertTrue(proxy.backends().get(protocol).server("dc2").isUp(), protocol + " dc2 stays UP");
                }
                // Meanwhile every new session goes to dc2 (and is served: the greeting arrives).
                for (String protocol : PROTOCOLS) {
                    assertServedBy(proxy, protocol, frontendPorts.get(protocol), 4, Map.of("dc1", 0L, "dc2", 4L));
                }

                restarted = Dovecot.start(dc1.options().toBuilder().ports(dc1.ports()).build());
                long started = System.nanoTime();
                // its readiness probes come before this mark; checks that came earlier are merely not inspected
                restartedStartLines = restarted.logLines().size();
                long upBound = RISE * INTERVAL_MS + SLACK_MS;
                for (String protocol : PROTOCOLS) {
                    Server s = proxy.backends().get(protocol).server("dc1");
                    long up = await(protocol + " dc1 UP", Duration.ofSeconds(10), s::isUp);
                    long ms = Math.max(0, (up - started) / 1_000_000);
                    assertTrue(ms <= upBound, protocol + ": UP after " + ms + " ms, bound " + upBound + " ms");
                }
                for (String protocol : PROTOCOLS) {
                    assertServedBy(proxy, protocol, frontendPorts.get(protocol), 4, Map.of("dc1", 2L, "dc2", 2L));
                }
                // Stopping the proxy cuts the checks in flight (Dovecot then logs e.g. LMTP
                // "state=GREETING"): only what the running checks left is inspected.
                dc2EndLines = dc2.logLines().size();
                restartedEndLines = restarted.logLines().size();
            }
            assertPolite(linesSince(dc1, dc1StartLines), "dc1 before its stop");
            assertPolite(linesBetween(dc2, dc2StartLines, dc2EndLines), "dc2");
            assertPolite(linesBetween(restarted, restartedStartLines, restartedEndLines), "dc1 after its restart");
        } finally {
            if (restarted != null) {
                restarted.close();
            }
            dc1.close();
            dc2.close();
        }
    }

    /**
     * The checks left lines for every protocol, and only polite ones: no PROXY-protocol complaint,
     * no "disconnected before greeting"-style line ({@link CheckProxyHeaderTest} shows this
     * assertion failing on a header-less check).
     */
    private static void assertPolite(List<String> lines, String which) {
        List<String> checks = CheckNoise.checkLines(lines);
        for (String service : List.of("imap-login:", "pop3-login:", "lmtp(")) {
            assertTrue(checks.stream().anyMatch(l -> l.contains(service)), which + ": no check line of " + service
                    + " in\n" + String.join("\n", lines));
        }
        assertEquals(List.of(), CheckNoise.noise(lines), which + ": lines other than polite check logouts");
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
