package io.mailproxy.stick;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.config.ConfigLoader;
import io.mailproxy.config.ConfigurationException;
import io.mailproxy.config.ProxySettings;
import io.mailproxy.config.StickTableSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code stick-table} and {@code stick-tables} as the configuration file gives them. */
class StickTableConfigTest {

    @TempDir
    Path dir;

    private static final String FRONTEND = "frontends.f { bind = [\"127.0.0.1:10143\"], backend = a }\n";

    private static String backend(String name, String stickTable) {
        return "backends." + name + " { servers = [{ name = dc1, address = \"127.0.0.1:20143\" }]"
                + (stickTable == null ? "" : ", stick-table = " + stickTable) + " }\n";
    }

    private ProxySettings load(String body) throws Exception {
        return ConfigLoader.load(Files.writeString(dir.resolve("mailproxy.conf"), "mailproxy {\n" + body + "}\n"));
    }

    private String failure(String body) throws Exception {
        Path file = Files.writeString(dir.resolve("mailproxy.conf"), "mailproxy {\n" + body + "}\n");
        return assertThrows(ConfigurationException.class, () -> ConfigLoader.load(file)).getMessage();
    }

    @Test
    void noStickTableByDefault() throws Exception {
        assertNull(load(FRONTEND + backend("a", null)).backends().get("a").stickTable());
        assertNull(load(FRONTEND + backend("a", "null")).backends().get("a").stickTable());
    }

    @Test
    void anEmptyObjectIsAPrivateTableWithTheDefaults() throws Exception {
        StickTableSettings t = load(FRONTEND + backend("a", "{}")).backends().get("a").stickTable();
        assertEquals(new StickTableSettings("a", false, 200 * 1024, Duration.ofMinutes(30)), t);
    }

    @ParameterizedTest
    @CsvSource({"200k, 204800", "1m, 1048576", "1M, 1048576", "5000, 5000", "64m, 67108864", "1, 1"})
    void sizesTakeHaproxysSuffixes(String size, int entries) throws Exception {
        StickTableSettings t = load(FRONTEND + backend("a", "{ size = " + size + ", expire = 2s }")).backends().get("a").stickTable();
        assertEquals(entries, t.size());
        assertEquals(Duration.ofSeconds(2), t.expire());
    }

    @Test
    void expireNullMeansNever() throws Exception {
        assertNull(load(FRONTEND + backend("a", "{ expire = null }")).backends().get("a").stickTable().expire());
    }

    @Test
    void aNamedTableIsSharedByTheBackendsThatNameIt() throws Exception {
        ProxySettings s = load(FRONTEND + "stick-tables { users { size = 1m, expire = 10m } }\n"
                + backend("a", "users") + backend("b", "users") + backend("c", null));
        StickTableSettings users = s.stickTables().get("users");
        assertEquals(new StickTableSettings("users", true, 1 << 20, Duration.ofMinutes(10)), users);
        assertSame(users, s.backends().get("a").stickTable());
        assertSame(users, s.backends().get("b").stickTable());
        assertNull(s.backends().get("c").stickTable());
    }

    @Test
    void problemsNameTheFileLineAndKey() throws Exception {
        String m = failure(FRONTEND
                + "stick-tables { users { size = 200x }, other { sise = 10 } }\n"
                + backend("a", "{ size = 0 }")
                + backend("b", "nosuch")
                + backend("c", "{ expire = 0s }")
                + backend("d", "{ size = 65m }")
                + backend("e", "{ colour = red }")
                + backend("g", "[1]"));
        assertTrue(m.contains("mailproxy.conf:3: mailproxy.stick-tables.users.size: expected a number of entries like 200000, 200k or 1m"), m);
        assertTrue(m.contains("mailproxy.conf:3: mailproxy.stick-tables.other.sise: unknown key (did you mean \"size\"?)"), m);
        assertTrue(m.contains("mailproxy.conf:4: mailproxy.backends.a.stick-table.size: 0 (0 entries) is not within 1..67108864 (64m)"), m);
        assertTrue(m.contains("mailproxy.conf:5: mailproxy.backends.b.stick-table: no stick table \"nosuch\" under mailproxy.stick-tables (one of [other, users])"), m);
        assertTrue(m.contains("mailproxy.conf:6: mailproxy.backends.c.stick-table.expire: must be longer than zero"), m);
        assertTrue(m.contains("mailproxy.conf:7: mailproxy.backends.d.stick-table.size: 65m (68157440 entries) is not within"), m);
        assertTrue(m.contains("mailproxy.conf:8: mailproxy.backends.e.stick-table.colour: unknown key"), m);
        assertTrue(m.contains("mailproxy.conf:9: mailproxy.backends.g.stick-table: expected null, the name of a table"), m);
    }
}
