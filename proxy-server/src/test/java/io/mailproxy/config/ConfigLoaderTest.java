package io.mailproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.mailproxy.mail.MailProtocol;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@link ConfigLoader} in-process: what the defaults in reference.conf give, and how a file overrides them. */
class ConfigLoaderTest {

    @TempDir
    Path dir;

    private static final String BACKEND = """
              backends {
                pool {
                  servers = [ { name = dc1, address = "127.0.0.1:20143" } ]
                }
              }
            """;

    private ProxySettings load(String text) throws Exception {
        return ConfigLoader.load(Files.writeString(dir.resolve("mailproxy.conf"), text));
    }

    private ConfigurationException failure(String text) throws Exception {
        Path file = Files.writeString(dir.resolve("mailproxy.conf"), text);
        return assertThrows(ConfigurationException.class, () -> ConfigLoader.load(file));
    }

    @ParameterizedTest
    @CsvSource({"imap, PT31M", "pop3, PT11M", "lmtp, PT11M"})
    void idleTimeoutComesFromTheProtocolDefaults(String protocol, Duration expected) throws Exception {
        ProxySettings s = load("mailproxy { frontends { f { bind = [\"127.0.0.1:10143\"], protocol = " + protocol
                + ", backend = pool } }\n" + BACKEND + "}");
        FrontendSettings f = s.frontends().get("f");
        assertEquals(MailProtocol.valueOf(protocol.toUpperCase()), f.protocol());
        assertEquals(expected, f.idleTimeout());
    }

    @Test
    void frontendIdleTimeoutOverridesTheProtocolDefault() throws Exception {
        ProxySettings s = load("""
                mailproxy {
                  frontends {
                    a { bind = ["127.0.0.1:10143"], backend = pool, timeout.idle = 90s }
                    b { bind = ["127.0.0.1:10144"], backend = pool }
                  }
                """ + BACKEND + "}");
        assertEquals(Duration.ofSeconds(90), s.frontends().get("a").idleTimeout());
        // Negative control: the frontend beside it keeps the IMAP default.
        assertEquals(Duration.ofMinutes(31), s.frontends().get("b").idleTimeout());
    }

    @Test
    void protocolDefaultsCanBeOverridden() throws Exception {
        ProxySettings s = load("""
                mailproxy {
                  protocol-defaults.pop3.idle-timeout = 20m
                  frontends {
                    a { bind = ["127.0.0.1:10110"], protocol = pop3, backend = pool }
                    b { bind = ["127.0.0.1:10024"], protocol = lmtp, backend = pool }
                  }
                """ + BACKEND + "}");
        assertEquals(Duration.ofMinutes(20), s.frontends().get("a").idleTimeout());
        assertEquals(Duration.ofMinutes(11), s.frontends().get("b").idleTimeout());
    }

    @Test
    void referenceDefaultsApply() throws Exception {
        ProxySettings s = load("mailproxy { frontends { f { bind = [\"127.0.0.1:10143\"], backend = pool } }\n" + BACKEND + "}");
        assertEquals(TlsEngine.AUTO, s.tlsEngine());
        assertEquals(0, s.ioThreads());
        assertEquals(10_000, s.log().maxPendingLines());
        FrontendSettings f = s.frontends().get("f");
        assertEquals(Duration.ZERO, f.shutdownGrace(), "IMAP's protocol default");
        assertEquals(Duration.ofSeconds(30), f.clientFinTimeout());
        assertEquals(0, f.maxConnectionsPerSource());
        assertEquals(64, f.sourceIpv6Prefix());
        assertEquals(MailProtocol.IMAP, f.protocol());
        assertEquals(TlsMode.NONE, f.tls().mode());
        assertEquals(List.of("TLSv1.3", "TLSv1.2"), f.tls().protocols());
        assertEquals("TLSv1.2", f.tls().minVersion());
        assertEquals(Duration.ofSeconds(10), f.tls().handshakeTimeout());
        BackendSettings b = s.backends().get("pool");
        assertEquals(Balance.LEASTCONN, b.balance());
        assertEquals(SendProxy.V2_SSL, b.sendProxy());
        assertEquals(3, b.retries());
        assertEquals(Duration.ofSeconds(10), b.greetingTimeout());
        assertEquals(Duration.ofSeconds(30), b.serverFinTimeout());
        assertTrue(b.healthCheck().observe());
        assertEquals(10, b.healthCheck().errorLimit());
        assertEquals(Duration.ofSeconds(5), b.connectTimeout());
        assertEquals(1, b.servers().get(0).weight());
        assertEquals(new HostPort("127.0.0.1", 20143), b.servers().get(0).address());
    }

    @Test
    void fileCanOverrideTheBackendDefaults() throws Exception {
        ProxySettings s = load("""
                mailproxy {
                  defaults.backend { retries = 5, balance = roundrobin }
                  defaults.server { weight = 7 }
                  frontends { f { bind = ["127.0.0.1:10143"], backend = a } }
                  backends {
                    a { servers = [ { name = dc1, address = "127.0.0.1:20143" } ] }
                    b { retries = 1, servers = [ { name = dc1, address = "127.0.0.1:20143", weight = 2 } ] }
                  }
                }
                """);
        BackendSettings a = s.backends().get("a");
        assertEquals(5, a.retries());
        assertEquals(Balance.ROUNDROBIN, a.balance());
        assertEquals(7, a.servers().get(0).weight());
        // A backend's own keys still win over the overridden defaults.
        BackendSettings b = s.backends().get("b");
        assertEquals(1, b.retries());
        assertEquals(Balance.ROUNDROBIN, b.balance());
        assertEquals(2, b.servers().get(0).weight());
    }

    @Test
    void frontendsKeepTheFileOrder() throws Exception {
        ProxySettings s = load("""
                mailproxy {
                  frontends {
                    zeta { bind = ["127.0.0.1:10001"], backend = pool }
                    alpha { bind = ["127.0.0.1:10002", "[::1]:10002"], backend = pool }
                    mid { bind = ["127.0.0.1:10003"], backend = pool }
                  }
                """ + BACKEND + "}");
        assertEquals(List.of("zeta", "alpha", "mid"), List.copyOf(s.frontends().keySet()));
        FrontendSettings alpha = s.frontends().get("alpha");
        assertEquals(List.of(new HostPort("127.0.0.1", 10002), new HostPort("::1", 10002)),
                alpha.bind().stream().map(BindAddress::address).toList());
        assertEquals("mailproxy.frontends.alpha.bind", alpha.bind().get(0).path());
        assertEquals(4, alpha.bind().get(1).origin().lineNumber());
    }

    @Test
    void variablesResolveBeforeTheEnvironment() throws Exception {
        Path file = Files.writeString(dir.resolve("vars.conf"), """
                mailproxy {
                  frontends { f { bind = [${LISTEN}], backend = pool } }
                """ + BACKEND + "}");
        ProxySettings s = ConfigLoader.load(file, Map.of("LISTEN", "127.0.0.1:10777"));
        assertEquals(10777, s.frontends().get("f").bind().get(0).address().port());
        // Negative control: without the variable the substitution is an error naming the line.
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> ConfigLoader.load(file));
        assertEquals(1, e.problems().size());
        assertEquals(2, e.problems().get(0).line());
    }

    @Test
    void problemsCarryFileLineAndPath() throws Exception {
        ConfigurationException e = failure("""
                mailproxy {
                  frontends {
                    a { bind = ["127.0.0.1:10143"], backend = pool }
                    b { bind = ["127.0.0.1:10143"], backend = pool }
                  }
                  backends {
                    pool {
                      servers = [
                        { name = dc1, address = "127.0.0.1:20143", weight = 257 }
                        { name = dc1, address = "127.0.0.1:20144" }
                      ]
                    }
                  }
                }
                """);
        String file = dir.resolve("mailproxy.conf").toString();
        assertEquals(List.of(
                        new ConfigProblem(file, 9, "mailproxy.backends.pool.servers.0.weight", "257 is not within 0..256"),
                        new ConfigProblem(file, 10, "mailproxy.backends.pool.servers.1.name",
                                "another server of this backend is named \"dc1\""),
                        new ConfigProblem(file, 4, "mailproxy.frontends.b.bind",
                                "127.0.0.1:10143 is already bound by mailproxy.frontends.a.bind (line 3)")),
                e.problems());
        assertEquals(file + ":9: mailproxy.backends.pool.servers.0.weight: 257 is not within 0..256",
                e.problems().get(0).toString());
        assertEquals(String.join("\n", e.problems().stream().map(ConfigProblem::toString).toList()), e.getMessage());
    }

    @Test
    void anEmptyFileNamesTheMissingFrontends() throws Exception {
        ConfigurationException e = failure("mailproxy {}\n");
        assertEquals(List.of("mailproxy.frontends"), e.problems().stream().map(ConfigProblem::path).toList());
        assertEquals("no frontend is configured", e.problems().get(0).message());
    }

    @Test
    void aMissingFileIsOneProblem() {
        Path missing = dir.resolve("nope.conf");
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> ConfigLoader.load(missing));
        assertEquals(List.of(new ConfigProblem(missing.toString(), -1, "mailproxy", "no such file")), e.problems());
        assertEquals(missing + ":?: mailproxy: no such file", e.getMessage());
    }
}
