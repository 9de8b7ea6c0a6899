package io.mailproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Settings compare by value, so that a reload can tell what changed: two loads of one file are
 * equal, moving lines changes nothing, and a changed key makes exactly the records on its path
 * unequal.
 */
class ConfigEqualityTest {

    /** Every kind of record: TLS with a certificate, accept-proxy, checks, tables shared and own. */
    static final String CONFIG = """
            mailproxy {
              max-connections = 5000
              frontends {
                imaps {
                  bind = ["127.0.0.1:10993", "[::1]:10993"]
                  backend = imap-pool
                  tls { mode = implicit, certificates = [ { cert = "/etc/mailproxy/a.pem", key = "/etc/mailproxy/a.key" } ] }
                  accept-proxy { enabled = true, trusted-networks = ["10.0.0.0/8"] }
                  rate-limit-per-source = "20/10s"
                }
                lmtp { bind = ["127.0.0.1:10024"], protocol = lmtp, backend = lmtp-pool }
              }
              backends {
                imap-pool {
                  balance = source
                  stick-table = users
                  health-check { type = imap, expect-capabilities = [IMAP4rev1] }
                  servers = [
                    { name = dc1, address = "127.0.0.1:20143" }
                    { name = dc2, address = "127.0.0.1:20144", weight = 2 }
                  ]
                }
                lmtp-pool {
                  stick-table { size = 1k }
                  servers = [ { name = dc1, address = "127.0.0.1:20024", max-connections = 10, max-queue = 5 } ]
                }
              }
              stick-tables { users { size = 200k, expire = 10m } }
            }
            """;

    @TempDir
    Path dir;

    private ProxySettings load(String text) throws Exception {
        return ConfigLoader.load(Files.writeString(dir.resolve("mailproxy.conf"), text));
    }

    @Test
    void twoLoadsOfOneFileAreEqual() throws Exception {
        ProxySettings a = load(CONFIG);
        ProxySettings b = load(CONFIG);
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
    }

    @Test
    void movingLinesChangesNothing() throws Exception {
        ProxySettings a = load(CONFIG);
        ProxySettings b = load("# three lines\n# of comments\n# first\n" + CONFIG);
        // Negative control: where things were written did change.
        assertNotEquals(a.frontends().get("imaps").bind().get(0).origin().lineNumber(),
                b.frontends().get("imaps").bind().get(0).origin().lineNumber());
        assertNotEquals(a.frontends().get("imaps").tls().certificates().get(0).origin(),
                b.frontends().get("imaps").tls().certificates().get(0).origin());
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
    }

    @Test
    void aChangedServerKeyMakesItsServerItsBackendAndTheWholeUnequalOnly() throws Exception {
        ProxySettings a = load(CONFIG);
        ProxySettings b = load(CONFIG.replace("weight = 2", "weight = 3"));
        assertNotEquals(a, b);
        BackendSettings before = a.backends().get("imap-pool");
        BackendSettings after = b.backends().get("imap-pool");
        assertNotEquals(before, after);
        assertNotEquals(before.servers().get(1), after.servers().get(1));
        assertEquals(before.servers().get(0), after.servers().get(0));
        assertEquals(before.healthCheck(), after.healthCheck());
        assertEquals(a.backends().get("lmtp-pool"), b.backends().get("lmtp-pool"));
        assertEquals(a.frontends(), b.frontends());
        assertEquals(a.stickTables(), b.stickTables());
    }

    @Test
    void aChangedCertificateMakesItsFrontendUnequalOnly() throws Exception {
        ProxySettings a = load(CONFIG);
        ProxySettings b = load(CONFIG.replace("a.key", "b.key"));
        assertNotEquals(a.frontends().get("imaps").tls(), b.frontends().get("imaps").tls());
        assertEquals(a.frontends().get("imaps").acceptProxy(), b.frontends().get("imaps").acceptProxy());
        assertEquals(a.frontends().get("lmtp"), b.frontends().get("lmtp"));
        assertEquals(a.backends(), b.backends());
    }
}
