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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real Dovecots, the third a backup: it takes no session while either normal server is UP
 * (the negative control, with one normal server already down) and takes every session once both
 * are DOWN. The DOWN that leaves only the backup is logged with HAProxy's "Running on backup.".
 */
class BackupServerTest {

    @TempDir
    Path dir;

    @Test
    void backupTakesTrafficOnlyWhileBothNormalServersAreDown() throws Exception {
        List<String> transitions = new ArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                synchronized (transitions) {
                    transitions.add(record.getMessage());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger checks = Logger.getLogger("io.mailproxy.checks.ServerHealth");
        checks.addHandler(capture);
        try (Dovecot dc1 = Dovecot.start(Dovecot.Options.builder().name("bk1").build());
             Dovecot dc2 = Dovecot.start(Dovecot.Options.builder().name("bk2").build());
             Dovecot dc3 = Dovecot.start(Dovecot.Options.builder().name("bk3").build())) {
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
                          rise = 2, fall = 2, timeout = 1s
                        }
                      }
                    }
                    """.formatted(port, dc1.ports().imapHaproxy(), dc2.ports().imapHaproxy(), dc3.ports().imapHaproxy());
            try (MailProxy proxy = HealthFixture.proxy(dir, config)) {
                Backend pool = proxy.backends().get("pool");
                await("every server checked and UP", Duration.ofSeconds(5), () -> checkedUp(pool.servers(), proxy));
                assertPlaced(pool, port, 4, Map.of("dc1", 2L, "dc2", 2L, "dc3", 0L));

                dc1.stop();
                Server s1 = pool.server("dc1");
                await("dc1 DOWN", Duration.ofSeconds(6), () -> !s1.isUp());
                // negative control: one normal server left, so the backup still gets nothing
                assertPlaced(pool, port, 4, Map.of("dc1", 0L, "dc2", 4L, "dc3", 0L));

                dc2.stop();
                Server s2 = pool.server("dc2");
                await("dc2 DOWN", Duration.ofSeconds(6), () -> !s2.isUp());
                assertPlaced(pool, port, 4, Map.of("dc1", 0L, "dc2", 0L, "dc3", 4L));

                synchronized (transitions) {
                    assertTrue(transitions.stream().anyMatch(l -> l.startsWith("Server pool/dc2 is DOWN, reason: Layer4 connection problem")
                            && l.endsWith(" 0 active and 1 backup servers left. Running on backup.")), transitions.toString());
                }
            }
        } finally {
            checks.removeHandler(capture);
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
