package io.mailproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Host names that do not resolve are configuration errors with their line, found by check too. */
class HostResolutionTest {
    @TempDir
    Path dir;

    @Test
    void unresolvableBindAndServerHostsAreReportedWithTheirLines() throws Exception {
        Path file = Files.writeString(dir.resolve("u.conf"), """
                mailproxy {
                  frontends { imap { bind = ["nosuchhost.invalid:10143"], backend = pool } }
                  backends { pool { servers = [ { name = a, address = "other.invalid:20143" } ] } }
                }
                """);
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> ConfigLoader.load(file));
        assertEquals(List.of(
                file + ":2: mailproxy.frontends.imap.bind: host \"nosuchhost.invalid\" does not resolve",
                file + ":3: mailproxy.backends.pool.servers.0.address: host \"other.invalid\" does not resolve"),
                e.problems().stream().map(ConfigProblem::toString).sorted().toList());
    }

    @Test
    void resolvableHostsLoad() throws Exception {
        Path file = Files.writeString(dir.resolve("ok.conf"), """
                mailproxy {
                  frontends { imap { bind = ["localhost:10143"], backend = pool } }
                  backends { pool { servers = [ { name = a, address = "localhost:20143" } ] } }
                }
                """);
        assertEquals("localhost", ConfigLoader.load(file).frontends().get("imap").bind().get(0).address().host());
    }
}
