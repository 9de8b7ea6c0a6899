package io.mailproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code accept-proxy} frontend section and the backend's {@code proxy-v2-options}. */
class AcceptProxyConfigTest {

    @TempDir
    Path dir;

    private static final String BACKEND = """
              backends {
                pool {
                  servers = [ { name = dc1, address = "127.0.0.1:20143" } ]
                }
              }
            """;

    private Path file(String text) throws Exception {
        return Files.writeString(dir.resolve("mailproxy.conf"), text);
    }

    private List<ConfigProblem> problems(String text) throws Exception {
        Path f = file(text);
        return assertThrows(ConfigurationException.class, () -> ConfigLoader.load(f)).problems();
    }

    @Test
    void disabledByDefault() throws Exception {
        ProxySettings s = ConfigLoader.load(file("mailproxy { frontends { f { bind = [\"127.0.0.1:10143\"], backend = pool } }\n"
                + BACKEND + "}"));
        assertNull(s.frontends().get("f").acceptProxy());
        assertEquals(Set.of(), s.backends().get("pool").proxyV2Options());
    }

    @Test
    void enabledWithNetworksTimeoutAndSize() throws Exception {
        ProxySettings s = ConfigLoader.load(file("""
                mailproxy {
                  frontends {
                    f {
                      bind = ["127.0.0.1:10143"], backend = pool
                      accept-proxy { enabled = true, trusted-networks = ["10.0.0.0/8", "2001:db8::/32"], timeout = 1500ms, max-header-size = 8192 }
                    }
                  }
                """ + BACKEND + "}"));
        AcceptProxySettings a = s.frontends().get("f").acceptProxy();
        assertEquals(List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("2001:db8::/32")), a.trustedNetworks());
        assertEquals(Duration.ofMillis(1500), a.timeout());
        assertEquals(8192, a.maxHeaderSize());
        assertTrue(a.forwardSsl());
        assertTrue(a.trusts(InetAddress.getByName("2001:db8::5")));
        assertTrue(!a.trusts(InetAddress.getByName("127.0.0.1")));
    }

    @Test
    void badCidrIsReportedWithFileLineAndPath() throws Exception {
        List<ConfigProblem> p = problems("""
                mailproxy {
                  frontends {
                    f {
                      bind = ["127.0.0.1:10143"], backend = pool
                      accept-proxy {
                        enabled = true
                        trusted-networks = ["10.0.0.0/8",
                          "10.0.0.0/33"]
                      }
                    }
                  }
                """ + BACKEND + "}");
        String file = dir.resolve("mailproxy.conf").toString();
        assertEquals(List.of(new ConfigProblem(file, 8, "mailproxy.frontends.f.accept-proxy.trusted-networks",
                "\"10.0.0.0/33\": the prefix length must be a number from 0 to 32")), p);
        assertEquals(file + ":8: mailproxy.frontends.f.accept-proxy.trusted-networks: "
                + "\"10.0.0.0/33\": the prefix length must be a number from 0 to 32", p.get(0).toString());
    }

    @Test
    void unknownKeyUnderAcceptProxyIsAnError() throws Exception {
        List<ConfigProblem> p = problems("""
                mailproxy {
                  frontends {
                    f {
                      bind = ["127.0.0.1:10143"], backend = pool
                      accept-proxy {
                        enabled = true
                        trusted-network = ["10.0.0.0/8"]
                      }
                    }
                  }
                """ + BACKEND + "}");
        assertEquals(1, p.size(), p.toString());
        assertEquals(7, p.get(0).line());
        assertEquals("mailproxy.frontends.f.accept-proxy.trusted-network", p.get(0).path());
        assertTrue(p.get(0).message().startsWith("unknown key"), p.get(0).message());
    }

    @Test
    void blockWithoutEnabledIsAnErrorNotSilentlyOff() throws Exception {
        List<ConfigProblem> p = problems("""
                mailproxy {
                  frontends {
                    f {
                      bind = ["127.0.0.1:10143"], backend = pool
                      accept-proxy { trusted-networks = ["10.0.0.0/8"] }
                    }
                  }
                """ + BACKEND + "}");
        assertEquals(1, p.size(), p.toString());
        assertEquals("mailproxy.frontends.f.accept-proxy.enabled", p.get(0).path());
        assertEquals(5, p.get(0).line());
    }

    @Test
    void maxHeaderSizeOutOfRange() throws Exception {
        List<ConfigProblem> p = problems("mailproxy { frontends { f { bind = [\"127.0.0.1:10143\"], backend = pool\n"
                + "accept-proxy { enabled = true, max-header-size = 100 } } }\n" + BACKEND + "}");
        assertEquals(List.of("mailproxy.frontends.f.accept-proxy.max-header-size: 100 is not within 232..65551"),
                p.stream().map(x -> x.path() + ": " + x.message()).toList());
    }

    @Test
    void proxyV2Options() throws Exception {
        ProxySettings s = ConfigLoader.load(file("mailproxy { frontends { f { bind = [\"127.0.0.1:10143\"], backend = pool } }\n"
                + "backends { pool { send-proxy = v2, proxy-v2-options = [crc32c, unique-id, cert-sig, alpn],"
                + " servers = [ { name = dc1, address = \"127.0.0.1:20143\" } ] } } }"));
        assertEquals(Set.of(ProxyV2Option.CRC32C, ProxyV2Option.UNIQUE_ID, ProxyV2Option.CERT_SIG, ProxyV2Option.ALPN),
                s.backends().get("pool").proxyV2Options());
    }

    @Test
    void proxyV2OptionsRefusedWithV1AndUnknownNames() throws Exception {
        List<ConfigProblem> p = problems("mailproxy { frontends { f { bind = [\"127.0.0.1:10143\"], backend = pool } }\n"
                + "backends { pool { send-proxy = v1, proxy-v2-options = [crc32c, cert-cn],"
                + " servers = [ { name = dc1, address = \"127.0.0.1:20143\" } ] } } }");
        assertEquals(List.of(
                "mailproxy.backends.pool.proxy-v2-options: \"cert-cn\" is not one of crc32c, unique-id, authority, alpn, ssl-cipher, cert-sig, cert-key",
                "mailproxy.backends.pool.proxy-v2-options: needs a v2 header: send-proxy is v1, use v2, v2-ssl or v2-ssl-cn"),
                p.stream().map(x -> x.path() + ": " + x.message()).toList());
    }
}
