package io.mailproxy.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.checks.CheckProxyHeader;
import io.mailproxy.checks.CheckType;
import io.mailproxy.config.BackendSettings;
import io.mailproxy.config.ConfigLoader;
import io.mailproxy.config.ConfigurationException;
import io.mailproxy.config.HealthCheckSettings;
import io.mailproxy.config.OnMarkedDown;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code health-check}, {@code all-backups}, {@code on-marked-down} and {@code backup} keys. */
class HealthCheckConfigTest {

    private static final String FRONTEND = "mailproxy.frontends.f { bind = [\"127.0.0.1:10143\"], backend = b }\n";

    @TempDir
    Path dir;

    @Test
    void defaultsAreNoChecksAndHaproxyNumbers() throws Exception {
        BackendSettings b = load("mailproxy.backends.b.servers = [{ name = s1, address = \"127.0.0.1:143\" }]\n");
        HealthCheckSettings hc = b.healthCheck();
        assertFalse(hc.enabled());
        assertEquals(Duration.ofSeconds(2), hc.interval());
        assertEquals(Duration.ofSeconds(2), hc.fastInterval());
        assertEquals(Duration.ofSeconds(2), hc.downInterval());
        assertEquals(2, hc.rise());
        assertEquals(3, hc.fall());
        assertEquals(Duration.ofSeconds(5), hc.timeout());
        assertEquals(CheckProxyHeader.LOCAL, hc.sendProxy());
        assertEquals(io.mailproxy.checks.CheckTls.Mode.NONE, hc.tls());
        assertTrue(hc.startUp());
        assertNull(hc.port());
        assertNull(hc.address());
        assertEquals(List.of(), hc.expectCapabilities());
        assertEquals("localhost", hc.heloName());
        assertFalse(b.allBackups());
        assertEquals(OnMarkedDown.NONE, b.onMarkedDown());
        assertFalse(b.servers().get(0).backup());
    }

    @Test
    void everyKeyIsRead() throws Exception {
        BackendSettings b = load("""
                mailproxy.backends.b {
                  all-backups = true
                  on-marked-down = shutdown-sessions
                  servers = [
                    { name = s1, address = "127.0.0.1:143" },
                    { name = s2, address = "127.0.0.1:144", backup = true }
                  ]
                  health-check {
                    type = lmtp
                    interval = 500ms
                    fast-interval = 250ms
                    down-interval = 3s
                    rise = 4
                    fall = 5
                    timeout = 1s
                    send-proxy = v2
                    tls = true
                    start = down
                    port = 10024
                    address = "[::1]"
                    expect-capabilities = [PIPELINING, "8BITMIME"]
                    helo-name = mailproxy.example.com
                  }
                }
                """);
        HealthCheckSettings hc = b.healthCheck();
        assertEquals(HealthCheckSettings.Type.LMTP, hc.type());
        assertEquals(CheckType.LMTP, hc.type().checkType());
        assertEquals(Duration.ofMillis(500), hc.interval());
        assertEquals(Duration.ofMillis(250), hc.fastInterval());
        assertEquals(Duration.ofSeconds(3), hc.downInterval());
        assertEquals(4, hc.rise());
        assertEquals(5, hc.fall());
        assertEquals(Duration.ofSeconds(1), hc.timeout());
        assertEquals(CheckProxyHeader.V2, hc.sendProxy());
        assertEquals(io.mailproxy.checks.CheckTls.Mode.IMPLICIT, hc.tls());
        assertFalse(hc.startUp());
        assertEquals(10024, hc.port());
        assertEquals("::1", hc.address());
        assertEquals(List.of("PIPELINING", "8BITMIME"), hc.expectCapabilities());
        assertEquals("mailproxy.example.com", hc.heloName());
        assertFalse(hc.schedule().startUp());
        assertTrue(b.allBackups());
        assertEquals(OnMarkedDown.SHUTDOWN_SESSIONS, b.onMarkedDown());
        assertTrue(b.servers().get(1).backup());
    }

    @Test
    void overridingDefaultsKeepsTheOtherKeys() throws Exception {
        BackendSettings b = load("""
                mailproxy.defaults.backend.health-check.interval = 10s
                mailproxy.backends.b {
                  servers = [{ name = s1, address = "127.0.0.1:143" }]
                  health-check.type = imap
                }
                """);
        assertEquals(HealthCheckSettings.Type.IMAP, b.healthCheck().type());
        assertEquals(Duration.ofSeconds(10), b.healthCheck().interval());
        assertEquals(3, b.healthCheck().fall());
    }

    @Test
    void badTypeNamesTheLineAndTheChoices() throws Exception {
        ConfigurationException e = fails("""
                mailproxy.backends.b {
                  servers = [{ name = s1, address = "127.0.0.1:143" }]
                  health-check {
                    type = http
                  }
                }
                """);
        assertEquals(List.of("mailproxy.conf:5: mailproxy.backends.b.health-check.type: "
                + "\"http\" is not one of none | tcp | imap | pop3 | lmtp | smtp"), lines(e));
    }

    @Test
    void badDuration() throws Exception {
        ConfigurationException e = fails("""
                mailproxy.backends.b {
                  servers = [{ name = s1, address = "127.0.0.1:143" }]
                  health-check.interval = fast
                  health-check.timeout = 0s
                }
                """);
        assertEquals(List.of(
                "mailproxy.conf:4: mailproxy.backends.b.health-check.interval: expected a duration such as 500ms, 5s or 31m",
                "mailproxy.conf:5: mailproxy.backends.b.health-check.timeout: must be longer than zero"), lines(e));
    }

    @Test
    void unknownKeyIsRejectedWithASuggestion() throws Exception {
        ConfigurationException e = fails("""
                mailproxy.backends.b {
                  servers = [{ name = s1, address = "127.0.0.1:143", backpu = true }]
                  health-check {
                    intervall = 5s
                  }
                }
                """);
        assertEquals(List.of(
                "mailproxy.conf:3: mailproxy.backends.b.servers.0.backpu: unknown key (did you mean \"backup\"?)",
                "mailproxy.conf:5: mailproxy.backends.b.health-check.intervall: unknown key (did you mean \"interval\"?)"),
                lines(e));
    }

    @Test
    void badValuesOfTheOtherKeys() throws Exception {
        ConfigurationException e = fails("""
                mailproxy.backends.b {
                  servers = [{ name = s1, address = "127.0.0.1:143", backup = maybe }]
                  all-backups = 3
                  on-marked-down = kill
                  health-check {
                    rise = 0
                    port = 70000
                    send-proxy = v1
                    start = sideways
                    helo-name = "two words"
                    expect-capabilities = ["IMAP4rev1", "AUTH=PLAIN LOGIN"]
                  }
                }
                """);
        assertEquals(List.of(
                "mailproxy.conf:4: mailproxy.backends.b.all-backups: expected true or false",
                "mailproxy.conf:5: mailproxy.backends.b.on-marked-down: \"kill\" is not one of none | shutdown-sessions",
                "mailproxy.conf:7: mailproxy.backends.b.health-check.rise: 0 is not within 1..100",
                "mailproxy.conf:9: mailproxy.backends.b.health-check.send-proxy: \"v1\" is not one of none | local | v2",
                "mailproxy.conf:10: mailproxy.backends.b.health-check.start: \"sideways\" is not one of up | down",
                "mailproxy.conf:8: mailproxy.backends.b.health-check.port: 70000 is not within 1..65535",
                "mailproxy.conf:12: mailproxy.backends.b.health-check.expect-capabilities: "
                        + "\"AUTH=PLAIN LOGIN\" is not one capability word like \"IMAP4rev1\"",
                "mailproxy.conf:11: mailproxy.backends.b.health-check.helo-name: "
                        + "\"two words\" is not one printable word like \"mailproxy.example.com\"",
                "mailproxy.conf:3: mailproxy.backends.b.servers.0.backup: expected true or false"), lines(e));
    }

    private BackendSettings load(String text) throws Exception {
        Path file = dir.resolve("mailproxy.conf");
        Files.writeString(file, FRONTEND + text);
        return ConfigLoader.load(file).backends().get("b");
    }

    private ConfigurationException fails(String text) throws Exception {
        Path file = dir.resolve("mailproxy.conf");
        Files.writeString(file, FRONTEND + text);
        return assertThrows(ConfigurationException.class, () -> ConfigLoader.load(file));
    }

    /** The problems as the user reads them, the directory left out. */
    private static List<String> lines(ConfigurationException e) {
        return e.problems().stream().map(p -> p.toString().replaceFirst("^.*/(mailproxy\\.conf)", "$1")).toList();
    }
}
