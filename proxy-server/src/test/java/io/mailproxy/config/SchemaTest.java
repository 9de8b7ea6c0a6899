package io.mailproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shapes reference.conf declares (its {@code mailproxy-schema} section), as a file meets them. */
class SchemaTest {

    @TempDir
    Path dir;

    private static final String SERVERS = "servers = [{ name = dc1, address = \"127.0.0.1:20143\" }]";

    private ProxySettings load(String text) throws Exception {
        return ConfigLoader.load(Files.writeString(dir.resolve("mailproxy.conf"), text));
    }

    /** The problems as printed, the directory left out. */
    private List<String> problems(String text) throws Exception {
        Path file = Files.writeString(dir.resolve("mailproxy.conf"), text);
        return assertThrows(ConfigurationException.class, () -> ConfigLoader.load(file)).problems().stream()
                .map(p -> p.toString().replace(dir + "/", "")).toList();
    }

    @Test
    void aValueOfTheWrongShapeIsOneProblemSayingWhatTheKeyTakes() throws Exception {
        assertEquals(List.of(
                "mailproxy.conf:3: mailproxy.frontends.imap.bind: expected a list like [\"a\", \"b\"], found \"127.0.0.1:10143\"",
                "mailproxy.conf:5: mailproxy.frontends.imap.tls: "
                        + "expected an object with the keys of mailproxy.defaults.frontend.tls, found null",
                "mailproxy.conf:6: mailproxy.frontends.imap.timeout.idle: expected null or a single value, found a list",
                "mailproxy.conf:8: mailproxy.frontends.other: "
                        + "expected an object with the keys of mailproxy.defaults.frontend, found 5",
                "mailproxy.conf:12: mailproxy.backends.pool.retries: expected a single value like 3, found null",
                "mailproxy.conf:13: mailproxy.backends.pool.health-check: "
                        + "expected an object with the keys of mailproxy.defaults.backend.health-check, found 5",
                "mailproxy.conf:14: mailproxy.backends.pool.servers.1: "
                        + "expected an object with the keys of mailproxy.defaults.server, found \"dc2\"",
                "mailproxy.conf:17: mailproxy.stick-tables: "
                        + "expected an object of named entries, each with the keys of mailproxy.defaults.stick-table, found a list"),
                problems("""
                        mailproxy {
                          frontends {
                            imap { bind = "127.0.0.1:10143"
                              backend = pool
                              tls = null
                              timeout.idle = [31m]
                            }
                            other = 5
                          }
                          backends {
                            pool {
                              retries = null
                              health-check = 5
                              servers = [{ name = dc1, address = "127.0.0.1:20143" }, dc2]
                            }
                          }
                          stick-tables = []
                        }
                        """));
    }

    @Test
    void keysTheReferenceLetsBeNullTakeNull() throws Exception {
        ProxySettings s = load("""
                mailproxy {
                  frontends.f {
                    bind = ["127.0.0.1:10110"], backend = pool, protocol = pop3
                    timeout.idle = null, shutdown-grace = null, rate-limit-per-source = null
                  }
                  backends.pool {
                    %s
                    timeout { queue = null, server-greeting = null }
                    health-check { port = null, address = null }
                    stick-table { expire = null }
                  }
                }
                """.formatted(SERVERS));
        FrontendSettings f = s.frontends().get("f");
        assertEquals(Duration.ofMinutes(11), f.idleTimeout(), "POP3's protocol default");
        assertEquals(Duration.ofSeconds(10), f.shutdownGrace(), "POP3's protocol default");
        assertNull(f.rateLimitPerSource());
        BackendSettings b = s.backends().get("pool");
        assertEquals(b.connectTimeout(), b.queueTimeout());
        assertNull(b.greetingTimeout());
        assertNull(b.healthCheck().port());
        assertNull(b.healthCheck().address());
        assertNull(b.stickTable().expire());
    }

    @Test
    void aCertificateEntryHasTheKeysOfItsDefaults() throws Exception {
        assertEquals(List.of(
                "mailproxy.conf:5: mailproxy.frontends.f.tls.certificates.1.kee: unknown key (did you mean \"key\"?)",
                "mailproxy.conf:4: mailproxy.frontends.f.tls.certificates.0.key: missing",
                "mailproxy.conf:5: mailproxy.frontends.f.tls.certificates.1.cert: must not be empty"),
                problems("""
                        mailproxy {
                          frontends.f {
                            bind = ["127.0.0.1:10993"], backend = pool, tls.mode = implicit
                            tls.certificates = [ { cert = "/etc/mailproxy/a.pem" }
                              { cert = "", key = "/etc/mailproxy/b.key", kee = 1 } ]
                          }
                          backends.pool.%s
                        }
                        """.formatted(SERVERS)));
    }

    @Test
    void aProblemWithADefaultIsPlacedInTheFileNotInTheJar() throws Exception {
        assertEquals(List.of("mailproxy.conf:4: mailproxy.frontends.f.tls.certificates: "
                        + "TLS mode \"implicit\" needs at least one certificate"),
                problems("""
                        mailproxy {
                          frontends.f {
                            bind = ["127.0.0.1:10993"], backend = pool
                            tls.mode = implicit
                          }
                          backends.pool.%s
                        }
                        """.formatted(SERVERS)));
    }

    @Test
    void aBadDefaultInTheFileIsReportedForEachUseOnItsOwnLine() throws Exception {
        assertEquals(List.of(
                "mailproxy.conf:2: mailproxy.backends.a.retries: 500 is not within 0..100",
                "mailproxy.conf:2: mailproxy.backends.b.retries: 500 is not within 0..100"),
                problems("""
                        mailproxy {
                          defaults.backend.retries = 500
                          frontends.f { bind = ["127.0.0.1:10143"], backend = a }
                          backends.a.%1$s
                          backends.b.%1$s
                        }
                        """.formatted(SERVERS)));
    }

    @Test
    void theSchemaSectionIsNotConfiguration() throws Exception {
        assertEquals(List.of("mailproxy.conf:2: mailproxy-schema: unknown key (the configuration lives under \"mailproxy\")"),
                problems("""
                        mailproxy { frontends.f { bind = ["127.0.0.1:10143"], backend = a }, backends.a.%s }
                        mailproxy-schema { "frontends" = { nullable = true } }
                        """.formatted(SERVERS)));
    }
}
