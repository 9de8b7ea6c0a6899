package io.mailproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ConfigDiff}: the one line a reload logs, naming what changed. */
class ConfigDiffTest {

    @TempDir
    Path dir;

    /** Always the same file, as a reload reads it. */
    private ProxySettings load(String text) throws Exception {
        return ConfigLoader.load(Files.writeString(dir.resolve("mailproxy.conf"), text));
    }

    private ConfigDiff diff(String before, String after) throws Exception {
        return ConfigDiff.between(load(before), load(after));
    }

    @Test
    void twoLoadsOfOneFileAreNoChange() throws Exception {
        ConfigDiff d = diff(ConfigEqualityTest.CONFIG, "# moved down a line\n" + ConfigEqualityTest.CONFIG);
        assertTrue(d.isEmpty());
        assertEquals("no change", d.toString());
    }

    @Test
    void namesWhatWasAddedRemovedAndChangedWithItsKeys() throws Exception {
        String before = """
                mailproxy {
                  frontends {
                    imaps {
                      bind = ["127.0.0.1:10993"], backend = pool
                      tls { mode = implicit, certificates = [ { cert = "/etc/mailproxy/a.pem", key = "/etc/mailproxy/a.key" } ] }
                    }
                    lmtp { bind = ["127.0.0.1:10024"], protocol = lmtp, backend = old-pool }
                  }
                  backends {
                    pool {
                      stick-table = users
                      servers = [
                        { name = dc1, address = "127.0.0.1:20143" }
                        { name = dc2, address = "127.0.0.1:20144" }
                        { name = dc3, address = "127.0.0.1:20145" }
                      ]
                    }
                    old-pool { servers = [ { name = dc1, address = "127.0.0.1:20024" } ] }
                  }
                  stick-tables { users { size = 200k } }
                }
                """;
        String after = """
                mailproxy {
                  max-connections = 5000
                  frontends {
                    imaps {
                      bind = ["127.0.0.1:10993"], backend = pool
                      tls { mode = implicit, certificates = [ { cert = "/etc/mailproxy/b.pem", key = "/etc/mailproxy/b.key" } ] }
                    }
                    pop3 { bind = ["127.0.0.1:10110"], protocol = pop3, backend = new-pool }
                  }
                  backends {
                    pool {
                      stick-table = users
                      retries = 5
                      health-check.interval = 5s
                      servers = [
                        { name = dc1, address = "127.0.0.1:20143", weight = 2 }
                        { name = dc3, address = "127.0.0.1:20145" }
                        { name = dc4, address = "127.0.0.1:20146" }
                      ]
                    }
                    new-pool { servers = [ { name = dc1, address = "127.0.0.1:20110" } ] }
                  }
                  stick-tables { users { size = 1m } }
                }
                """;
        ConfigDiff d = diff(before, after);
        assertEquals(List.of(
                "global changed: max-connections",
                "frontend imaps changed: tls.certificates",
                "frontend pop3 added",
                "frontend lmtp removed",
                "backend pool changed: retries, health-check.interval",
                "backend new-pool added",
                "backend old-pool removed",
                "server pool/dc1 changed: weight",
                "server pool/dc4 added",
                "server pool/dc2 removed",
                // Listed once, not also under each backend that names it.
                "stick-table users changed: size"), d.changes());
        assertEquals(String.join("; ", d.changes()), d.toString());
    }

    @Test
    void aBackendsOwnTableAndTheOrderOfItsServersAreItsKeys() throws Exception {
        String before = """
                mailproxy {
                  frontends.f { bind = ["127.0.0.1:10143"], backend = pool }
                  backends.pool {
                    stick-table { size = 1k }
                    servers = [ { name = a, address = "127.0.0.1:20143" }, { name = b, address = "127.0.0.1:20144" } ]
                  }
                }
                """;
        String swapped = before.replace("1k", "2k").replace(
                "[ { name = a, address = \"127.0.0.1:20143\" }, { name = b, address = \"127.0.0.1:20144\" } ]",
                "[ { name = b, address = \"127.0.0.1:20144\" }, { name = a, address = \"127.0.0.1:20143\" } ]");
        assertEquals(List.of("backend pool changed: stick-table.size, order of servers"), diff(before, swapped).changes());
        assertEquals(List.of("backend pool changed: stick-table"), diff(before, before.replace("stick-table { size = 1k }", "stick-table = null"))
                .changes());
    }
}
