package io.mailproxy.it.health;

import static io.mailproxy.it.health.HealthFixture.await;
import static io.mailproxy.it.health.HealthFixture.checkedUp;
import static io.mailproxy.it.health.HealthFixture.freePort;
import static io.mailproxy.it.health.HealthFixture.greet;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.MailProxy;
import io.mailproxy.backend.Backend;
import io.mailproxy.backend.Server;
import io.mailproxy.dovecot.Dovecot;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real Dovecots, the third a backup: it takes no session while either normal server is UP
 * (the negative control, with one normal server already down) and takes every session once both
 * are DOWN. The DOWN that leaves only the backup is logged with HAProxy's "Running on backup.".
 * Check timeouts (5 s) leave a cold Dovecot room to answer; waits only bound a broken build.
 */
@Tag("dovecot")
class BackupServerTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void backupTakesTrafficOnlyWhileBothNormalServersAreDown() throws Exception {
        try (Dovecot dc1 = Dovecot.start("bk1");
             Dovecot dc2 = Dovecot.start("bk2");
             Dovecot dc3 = Dovecot.start("bk3")) {
            int port = freePort();
            String config = """
                    mailproxy {
                      frontends.f { bind = ["127.0.0.1:%d"], protocol = imap, backend = pool }
                      backends.pool {
                        balance = roundrobin
                        send-proxy = v2
                        servers = [
                          { name = dc1, address = "127.0.0.1:%d" },
                          { name = dc2, address = "127.0.0.1:%d" },
                          { name = dc3, address = "127.0.0.1:%d", backup = true }
                        ]
                        health-check {
                          type = imap
                          interval = 500ms, fast-interval = 500ms, down-interval = 500ms
                          rise = 2, fall = 2, timeout = 5s
                        }
                      }
                    }
                    """.formatted(port, dc1.ports().imapHaproxy(), dc2.ports().imapHaproxy(), dc3.ports().imapHaproxy());
            try (MailProxy proxy = HealthFixture.proxy(dir, config);
                 HealthFixture.Transitions transitions = HealthFixture.Transitions.record(proxy)) {
                Backend pool = proxy.backends().get("pool");
                await("every server checked and UP", WAIT, () -> checkedUp(pool.servers(), proxy));
                assertPlaced(pool, port, 4, Map.of("dc1", 2L, "dc2", 2L, "dc3", 0L));

                dc1.stop();
                Server s1 = pool.server("dc1");
                await("dc1 DOWN", WAIT, () -> !s1.isUp());
                // negative control: one normal server left, so the backup still gets nothing
                assertPlaced(pool, port, 4, Map.of("dc1", 0L, "dc2", 4L, "dc3", 0L));

                dc2.stop();
                Server s2 = pool.server("dc2");
                // the state changes first, its line is logged just after: wait for the line too
                await("dc2 DOWN", WAIT, () -> !s2.isUp() && transitions.has("pool", "dc2", false));
                assertPlaced(pool, port, 4, Map.of("dc1", 0L, "dc2", 0L, "dc3", 4L));

                // The failure that takes it DOWN is a refused connection, or a reset when a check was
                // in flight while Dovecot shut down: which one is up to timing.
                String down = transitions.last("pool", "dc2", false).line();
                assertTrue(down.matches("Server pool/dc2 is DOWN, reason: (Layer4 connection problem|Socket error), .*")
                        && down.endsWith(" 0 active and 1 backup servers left. Running on backup."), down);
            }
        }
    }

    private static void assertPlaced(Backend backend, int port, int n, Map<String, Long> expected) {
        Map<String, Long> before = new LinkedHashMap<>();
        backend.servers().forEach(s -> before.put(s.name(), s.totalSessions()));
        for (int i = 0; i < n; i++) {
            String greeting = greet(port, "imap");
            assertTrue(greeting != null && greeting.startsWith("* OK "), "greeting: " + greeting);
        }
        Map<String, Long> placed = new LinkedHashMap<>();
        backend.servers().forEach(s -> placed.put(s.name(), s.totalSessions() - before.get(s.name())));
        assertEquals(expected, placed);
    }
}
