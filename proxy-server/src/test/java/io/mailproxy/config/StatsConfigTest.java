package io.mailproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code stats}, {@code admin-socket} and {@code log}'s syslog keys: read, defaulted, and refused with their line. */
class StatsConfigTest {

    @TempDir
    Path dir;

    private static final String FRONTEND = """
              frontends { f { bind = ["127.0.0.1:10143"], backend = b } }
              backends { b { servers = [{ name = s, address = "127.0.0.1:10144" }] } }
            """;

    private ProxySettings load(String extra) throws Exception {
        return ConfigLoader.load(Files.writeString(dir.resolve("mailproxy.conf"), "mailproxy {\n" + FRONTEND + extra + "\n}\n"));
    }

    private String problems(String extra) {
        Path file = dir.resolve("bad.conf");
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> ConfigLoader.load(
                Files.writeString(file, "mailproxy {\n" + FRONTEND + extra + "\n}\n")));
        return e.getMessage();
    }

    @Test
    void defaultsAreOff() throws Exception {
        ProxySettings s = load("");
        assertFalse(s.stats().enabled());
        assertFalse(s.adminSocket().enabled());
        assertEquals(Duration.ofSeconds(10), s.stats().refresh());
        assertEquals(LogSettings.Target.STDOUT, s.log().target());
        assertEquals(LogSettings.Format.RFC5424, s.log().format());
        assertEquals(LogSettings.Facility.LOCAL0, s.log().facility());
        assertEquals("/dev/log", s.log().address());
    }

    @Test
    void statsWithAuthAndAdmin() throws Exception {
        ProxySettings s = load("stats { bind = \"0.0.0.0:8404\", auth = [{ user = admin, password = pw }], admin = true, refresh = 5s }");
        assertTrue(s.stats().enabled());
        assertEquals("admin", s.stats().auth().get(0).user());
        assertTrue(s.stats().admin());
        assertFalse(s.stats().auth().get(0).toString().contains("pw"), "the password is not printed");
    }

    @Test
    void nonLoopbackWithoutAuthIsRefused() {
        String p = problems("stats { bind = \"0.0.0.0:8404\" }");
        assertTrue(p.contains(":4: mailproxy.stats.bind: 0.0.0.0:8404 is not a loopback address"), p);
    }

    @Test
    void loopbackWithoutAuthIsAllowedButAdminIsNot() throws Exception {
        assertTrue(load("stats { bind = \"127.0.0.1:8404\" }").stats().auth().isEmpty());
        String p = problems("stats { bind = \"127.0.0.1:8404\", admin = true }");
        assertTrue(p.contains("mailproxy.stats.admin: admin actions need `auth`"), p);
    }

    @Test
    void authEntriesAreChecked() {
        String p = problems("stats { bind = \"127.0.0.1:8404\", auth = [{ user = \"a:b\", password = x }] }");
        assertTrue(p.contains("mailproxy.stats.auth.0"), p);
        assertTrue(problems("stats { bind = \"127.0.0.1:8404\", auth = [{ user = a }] }").contains("password"));
        assertTrue(problems("stats { bind = \"127.0.0.1:8404\", auth = [{ user = a, pasword = x }] }").contains("pasword"));
    }

    @Test
    void adminSocketModeAndOwner() throws Exception {
        AdminSocketSettings a = load("admin-socket { path = \"/run/mailproxy/admin.sock\", mode = \"0640\", group = adm }").adminSocket();
        assertEquals(Path.of("/run/mailproxy/admin.sock"), a.path());
        assertEquals("rw-r-----", PosixFilePermissions.toString(a.mode()));
        assertEquals("adm", a.group());
        assertNull(a.user());
        assertTrue(problems("admin-socket { path = \"/x.sock\", mode = \"0648\" }")
                .contains("mailproxy.admin-socket.mode: expected an octal mode like \"0600\""));
        assertTrue(problems("admin-socket { path = \"relative.sock\" }").contains("expected an absolute path"));
    }

    @Test
    void syslogTargets() throws Exception {
        LogSettings l = load("log { target = syslog, address = \"127.0.0.1:514\", facility = mail, format = rfc3164 }").log();
        assertEquals(LogSettings.Target.SYSLOG, l.target());
        assertEquals(2, l.facility().code());
        assertTrue(problems("log { facility = local9 }").contains("mailproxy.log.facility"));
        assertTrue(problems("log { format = json }").contains("mailproxy.log.format"));
        assertTrue(problems("log { address = \"nohost\" }").contains("mailproxy.log.address"));
        assertTrue(problems("log { tag = \"two words\" }").contains("tag"));
    }
}
