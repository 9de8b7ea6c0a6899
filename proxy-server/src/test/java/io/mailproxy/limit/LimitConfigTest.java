package io.mailproxy.limit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.config.BackendSettings;
import io.mailproxy.config.ConfigLoader;
import io.mailproxy.config.ConfigurationException;
import io.mailproxy.config.FrontendSettings;
import io.mailproxy.config.ProxySettings;
import io.mailproxy.config.RateLimit;
import io.mailproxy.config.ServerSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The limit keys as a configuration file gives them: defaults, good values, located errors. */
class LimitConfigTest {

    @TempDir
    Path dir;

    private Path file;

    private ProxySettings load(String global, String frontend, String backend, String server) throws Exception {
        file = Files.writeString(dir.resolve("mailproxy.conf"), body(global, frontend, backend, server));
        return ConfigLoader.load(file);
    }

    private String failure(String global, String frontend, String backend, String server) throws Exception {
        file = Files.writeString(dir.resolve("mailproxy.conf"), body(global, frontend, backend, server));
        return assertThrows(ConfigurationException.class, () -> ConfigLoader.load(file)).getMessage();
    }

    /** The tested key is always on line 2 (global), 3 (frontend), 4 (backend) or 5 (server). */
    private static String body(String global, String frontend, String backend, String server) {
        return "mailproxy {\n"
                + "  " + global + "\n"
                + "  frontends.f { bind = [\"127.0.0.1:10143\"], backend = b, " + frontend + " }\n"
                + "  backends.b { " + backend + "\n"
                + "    servers = [{ name = s1, address = \"127.0.0.1:20143\", " + server + " }] }\n"
                + "}\n";
    }

    @Test
    void defaultsAreNoLimits() throws Exception {
        ProxySettings p = load("", "", "", "");
        FrontendSettings f = p.frontends().get("f");
        BackendSettings b = p.backends().get("b");
        ServerSettings s = b.servers().get(0);
        assertEquals(ProxySettings.AUTO_MAX_CONNECTIONS, p.maxConnections(), "auto: what the open-files limit allows");
        assertEquals(0, f.maxConnections());
        assertNull(f.rateLimitPerSource());
        assertEquals(0, s.maxConnections());
        assertEquals(0, s.maxQueue());
        assertEquals(3, b.retries());
        assertTrue(b.redispatch());
        assertEquals(b.connectTimeout(), b.queueTimeout(), "timeout.queue defaults to timeout.connect, as HAProxy");
    }

    @Test
    void goodValues() throws Exception {
        ProxySettings p = load("max-connections = 5000", "max-connections = 200, rate-limit-per-source = \"20/10s\"",
                "redispatch = false, retries = 1, timeout { connect = 2s, queue = 30s }",
                "max-connections = 10, max-queue = 5");
        assertEquals(5000, p.maxConnections());
        assertEquals(200, p.frontends().get("f").maxConnections());
        assertEquals(new RateLimit(20, Duration.ofSeconds(10)), p.frontends().get("f").rateLimitPerSource());
        BackendSettings b = p.backends().get("b");
        assertEquals(false, b.redispatch());
        assertEquals(Duration.ofSeconds(30), b.queueTimeout());
        assertEquals(10, b.servers().get(0).maxConnections());
        assertEquals(5, b.servers().get(0).maxQueue());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "20/10s   | 20 | 10000",
        "3/500ms  | 3  | 500",
        "100 / 1m | 100| 60000",
        "1/1h     | 1  | 3600000"})
    void rates(String text, int connections, long windowMillis) {
        RateLimit r = RateLimit.parse(text);
        assertEquals(connections, r.connections());
        assertEquals(windowMillis, r.window().toMillis());
    }

    @Test
    void aBadRateIsLocated() throws Exception {
        String m = failure("", "rate-limit-per-source = \"20 per 10s\"", "", "");
        assertTrue(m.contains(file + ":3: mailproxy.frontends.f.rate-limit-per-source: \"20 per 10s\" is not a rate like \"20/10s\""), m);
    }

    @Test
    void aRateOutOfRangeIsLocated() throws Exception {
        String m = failure("", "rate-limit-per-source = \"0/10s\"", "", "");
        assertTrue(m.contains(file + ":3: mailproxy.frontends.f.rate-limit-per-source: 0 connections is not within 1..1000"), m);
        m = failure("", "rate-limit-per-source = \"5/2h\"", "", "");
        assertTrue(m.contains(file + ":3: mailproxy.frontends.f.rate-limit-per-source: the window (7200000ms) is not within 1ms..1h"), m);
    }

    @Test
    void negativeLimitsAreLocated() throws Exception {
        String m = failure("max-connections = -1", "max-connections = -2", "", "max-connections = -3");
        assertTrue(m.contains(file + ":2: mailproxy.max-connections: expected auto, 0 (no limit) or a number of sessions, found -1"), m);
        assertTrue(m.contains(file + ":3: mailproxy.frontends.f.max-connections: -2 is not within 0..2147483647"), m);
        assertTrue(m.contains(file + ":5: mailproxy.backends.b.servers.0.max-connections: -3 is not within 0..2147483647"), m);
    }

    @Test
    void aQueueWithoutAConnectionLimitIsAnError() throws Exception {
        String m = failure("", "", "", "max-queue = 5");
        assertTrue(m.contains(file + ":5: mailproxy.backends.b.servers.0.max-queue: has no effect without max-connections"), m);
    }

    @Test
    void badQueueTimeoutAndRedispatchAreLocated() throws Exception {
        String m = failure("", "", "redispatch = maybe, timeout.queue = 0s", "");
        assertTrue(m.contains(file + ":4: mailproxy.backends.b.redispatch: expected true or false"), m);
        assertTrue(m.contains(file + ":4: mailproxy.backends.b.timeout.queue: must be longer than zero"), m);
    }

    @Test
    void aTypoInALimitKeyIsAnUnknownKey() throws Exception {
        String m = failure("", "", "", "max-conections = 5");
        assertTrue(m.contains(file + ":5: mailproxy.backends.b.servers.0.max-conections: unknown key (did you mean \"max-connections\"?)"), m);
    }
}
