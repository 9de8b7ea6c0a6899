package io.mailproxy.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.mailproxy.config.BackendSettings;
import io.mailproxy.config.Balance;
import io.mailproxy.config.ConfigLoader;
import io.mailproxy.config.ConfigurationException;
import io.mailproxy.config.HashType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code balance} and {@code hash-type} as a user writes them, and the errors for bad values. */
class BalanceConfigTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource({"roundrobin, ROUNDROBIN", "static-rr, STATIC_RR", "leastconn, LEASTCONN", "first, FIRST",
            "source, SOURCE", "random, RANDOM"})
    void everyAlgorithmHasItsHaproxyName(String written, Balance expected) throws Exception {
        assertEquals(expected, backend("balance = " + written).balance());
    }

    @Test
    void sourceWithConsistentHashing() throws Exception {
        BackendSettings b = backend("balance = source\n    hash-type = consistent");
        assertEquals(Balance.SOURCE, b.balance());
        assertEquals(HashType.CONSISTENT, b.hashType());
        // Negative control: the default from reference.conf.
        assertEquals(HashType.MAP_BASED, backend("balance = source").hashType());
    }

    @Test
    void badAlgorithmIsLocated() throws Exception {
        Path file = write("balance = sourc");
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> ConfigLoader.load(file));
        assertEquals(List.of(file + ":4: mailproxy.backends.pool.balance: \"sourc\" is not one of "
                + "roundrobin | static-rr | leastconn | first | source | random"), lines(e));
    }

    @Test
    void badHashTypeIsLocated() throws Exception {
        Path file = write("balance = source\n    hash-type = ring");
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> ConfigLoader.load(file));
        assertEquals(List.of(file + ":5: mailproxy.backends.pool.hash-type: \"ring\" is not one of map-based | consistent"),
                lines(e));
    }

    @Test
    void hashTypeOfTheWrongTypeIsLocated() throws Exception {
        Path file = write("hash-type = [consistent]");
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> ConfigLoader.load(file));
        assertEquals(1, e.problems().size(), e.getMessage());
        assertEquals(4, e.problems().get(0).line(), e.getMessage());
        assertEquals("mailproxy.backends.pool.hash-type", e.problems().get(0).path(), e.getMessage());
    }

    private static List<String> lines(ConfigurationException e) {
        return e.problems().stream().map(Object::toString).toList();
    }

    private BackendSettings backend(String keys) throws Exception {
        return ConfigLoader.load(write(keys)).backends().get("pool");
    }

    /** The keys start on line 4. */
    private Path write(String keys) throws Exception {
        return Files.writeString(dir.resolve("mailproxy" + System.nanoTime() + ".conf"), """
                mailproxy {
                  frontends { f { bind = ["127.0.0.1:10143"], backend = pool } }
                  backends { pool {
                    %s
                    servers = [{ name = s1, address = "127.0.0.1:1001" }]
                  } }
                }
                """.formatted(keys));
    }
}
