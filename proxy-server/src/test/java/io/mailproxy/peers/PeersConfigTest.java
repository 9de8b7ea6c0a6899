package io.mailproxy.peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.config.ConfigLoader;
import io.mailproxy.config.ConfigurationException;
import io.mailproxy.config.PeersSettings;
import io.mailproxy.config.ProxySettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mailproxy.peers} and {@code peers = true} as the configuration file gives them. */
class PeersConfigTest {

    private static final String FRONTEND = "frontends.f { bind = [\"127.0.0.1:10143\"], backend = a }\n";
    private static final String BACKEND = "backends.a { servers = [{ name = dc1, address = \"127.0.0.1:20143\" }], stick-table = users }\n";

    @TempDir
    Path dir;

    @Test
    void offByDefault() throws Exception {
        PeersSettings p = load(FRONTEND + BACKEND.replace("stick-table = users", "stick-table = {}")).peers();
        assertFalse(p.enabled());
        assertTrue(p.nodes().isEmpty());
        assertEquals(Duration.ofSeconds(5), p.resyncTimeout());
    }

    @Test
    void theSectionAsWritten() throws Exception {
        ProxySettings s = load(FRONTEND + BACKEND + """
                stick-tables { users { peers = true } }
                peers {
                  local-name = mp1, bind = "127.0.0.1:10000", resync-timeout = 2s
                  nodes = [{ name = mp1, address = "127.0.0.1:10000" }, { name = mp2, address = "127.0.0.2:10000" }]
                }
                """);
        PeersSettings p = s.peers();
        assertTrue(p.enabled());
        assertEquals("mp1", p.localName());
        assertEquals(List.of("mp2"), p.nodes().stream().map(PeersSettings.Node::name).toList(), "itself is left out");
        assertEquals(Duration.ofSeconds(2), p.resyncTimeout());
        assertNull(p.tls());
        assertTrue(s.stickTables().get("users").peers());
    }

    @Test
    void problemsNameTheFileLineAndKey() throws Exception {
        String m = failure(FRONTEND + BACKEND + """
                stick-tables { users { peers = true } }
                backends.users { servers = [{ name = dc1, address = "127.0.0.1:20143" }], stick-table { peers = true } }
                peers {
                  local-name = "mp 1"
                  nodes = [
                    { name = mp2, address = "127.0.0.2:10000" }
                    { name = mp2, address = "127.0.0.3:10000" }
                    { name = mp3, address = "nowhere" }
                  ]
                  tls { enabled = true, cert = "/c.pem", key = "/k.pem" }
                }
                """);
        assertTrue(m.contains("mailproxy.conf:5: mailproxy.backends.users.stick-table.peers: another synced table is named \"users\""), m);
        assertTrue(m.contains("mailproxy.conf:7: mailproxy.peers.local-name: \"mp 1\" is not a peer name"), m);
        assertTrue(m.contains("mailproxy.peers.bind: the address this node listens on for its peers is required when nodes are listed"), m);
        assertTrue(m.contains("mailproxy.conf:10: mailproxy.peers.nodes.1.name: another node is named \"mp2\""), m);
        assertTrue(m.contains("mailproxy.conf:11: mailproxy.peers.nodes.2.address:"), m);
        assertTrue(m.contains("mailproxy.conf:13: mailproxy.peers.tls.ca: TLS between peers needs the CA file"), m);
    }

    @Test
    void aSyncedTableNeedsThePeersSection() throws Exception {
        String m = failure(FRONTEND + BACKEND + "stick-tables { users { peers = true } }\n");
        assertTrue(m.contains("mailproxy.conf:4: mailproxy.stick-tables.users.peers: the table is synced, but no peers are configured"
                + " (mailproxy.peers.bind)"), m);
    }

    private ProxySettings load(String body) throws Exception {
        return ConfigLoader.load(Files.writeString(dir.resolve("mailproxy.conf"), "mailproxy {\n" + body + "}\n"));
    }

    private String failure(String body) throws Exception {
        Path file = Files.writeString(dir.resolve("mailproxy.conf"), "mailproxy {\n" + body + "}\n");
        return assertThrows(ConfigurationException.class, () -> ConfigLoader.load(file)).getMessage();
    }
}
