package io.mailproxy.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.backend.Server;
import io.mailproxy.session.ProxyRunner;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runtime API's socket and its commands' effect on the running servers (the effect on real
 * traffic is it-tests' {@code RuntimeApiDovecotTest}): one command per connection as {@code socat}
 * sends it (a line, then a half-close), {@code prompt} mode, HAProxy's errors.
 */
class AdminSocketTest {

    @TempDir
    Path dir;

    private ProxyRunner start(Path socket) throws IOException {
        return ProxyRunner.start(dir, """
                frontends { f { bind = ["127.0.0.1:%PORT%"], backend = b } }
                backends { b { servers = [{ name = s1, address = "127.0.0.1:1" }, { name = s2, address = "127.0.0.1:2" }] } }
                admin-socket { path = "SOCKET", mode = "0660" }
                """.replace("SOCKET", socket.toString()));
    }

    /** Sends {@code text} and half-closes, as {@code echo cmd | socat stdio unix-connect:...}; reads to the end. */
    static String send(Path socket, String text) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
            ch.shutdownOutput();
            return new String(readAll(ch), StandardCharsets.UTF_8);
        }
    }

    private static byte[] readAll(SocketChannel ch) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        ByteBuffer b = ByteBuffer.allocate(8192);
        while (ch.read(b) >= 0) {
            b.flip();
            out.write(b.array(), 0, b.limit());
            b.clear();
        }
        return out.toByteArray();
    }

    @Test
    void commandsChangeTheServers() throws Exception {
        Path socket = dir.resolve("admin.sock");
        try (ProxyRunner r = start(socket)) {
            assertEquals("rw-rw----", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
            Server s1 = r.proxy.backends().get("b").server("s1");
            assertEquals("\n", send(socket, "set server b/s1 state drain\n"));
            assertEquals(Server.AdminState.DRAIN, s1.adminState());
            assertTrue(s1.isUp() && !s1.usable(), "DRAIN: up for sticky sessions, not for new ones");
            assertEquals("\n", send(socket, "set server b/s1 state maint\n"));
            assertTrue(!s1.isUp(), "MAINT: not even sticky sessions");
            assertEquals("\n", send(socket, "set server b/s1 state ready\n"));
            assertTrue(s1.usable());
            assertEquals("\n", send(socket, "set server b/s1 weight 7\n"));
            assertEquals(7, s1.weight());
            assertTrue(send(socket, "set server b/s1 weight 300\n").contains("weight must be between 0 and 256"));
            assertEquals("\n", send(socket, "set maxconn server b/s1 5\n"));
            assertEquals(5, s1.maxConnections());
            assertEquals("\n", send(socket, "set server b/s1 health down\n"));
            assertTrue(!s1.healthUp());
            assertEquals("\n", send(socket, "set server b/s1 health up\n"));
            assertTrue(s1.healthUp());
            assertTrue(send(socket, "disable health b/s1\n").startsWith("Health checks are not configured"));
            assertTrue(send(socket, "show servers state\n").startsWith("1\n# be_id be_name srv_id srv_name"));
            assertTrue(send(socket, "show stat\n").startsWith("# pxname,svname,"));
            // negative control: an unknown server changes nothing
            assertEquals("No such server.\n\n", send(socket, "set server b/s9 weight 1\n"));
            assertEquals(7, s1.weight());
        }
        assertTrue(!Files.exists(socket), "the socket file goes with the proxy");
    }

    @Test
    void promptModeAnswersLineByLine() throws Exception {
        Path socket = dir.resolve("admin.sock");
        try (ProxyRunner r = start(socket)) {
            String out = send(socket, "prompt\nshow table\nset server b/s2 weight 3\nquit\n");
            assertEquals("> \n> \n> ", out);
            assertEquals(3, r.proxy.backends().get("b").server("s2").weight());
            assertEquals("\n\n", send(socket, "set server b/s2 weight 4; set server b/s1 weight 5\n"));
            assertEquals(5, r.proxy.backends().get("b").server("s1").weight());
        }
    }

    @Test
    void aStaleSocketFileIsReplaced() throws Exception {
        Path socket = dir.resolve("admin.sock");
        Files.writeString(socket, "left over");
        try (ProxyRunner r = start(socket)) {
            assertTrue(send(socket, "help\n").startsWith("The following commands are valid"));
        }
    }

    /**
     * {@code reload} on the socket re-reads the file: the answer is the summary line (or the
     * problems, and nothing changes); a weight set at run time stays unless the file changes it; a
     * server the reload adds has its row and counters at once.
     */
    @Test
    void reloadAppliesTheFileAndKeepsWhatWasSetAtRunTime() throws Exception {
        Path socket = dir.resolve("admin.sock");
        try (ProxyRunner r = start(socket)) {
            Path file = r.proxy.settings().source();
            Server s1 = r.proxy.backends().get("b").server("s1");
            assertEquals("\n", send(socket, "set server b/s1 weight 7\n"));
            String text = Files.readString(file);
            Files.writeString(file, text.replace("{ name = s2, address = \"127.0.0.1:2\" }",
                    "{ name = s2, address = \"127.0.0.1:2\", weight = 4 }, { name = s3, address = \"127.0.0.1:3\" }"));
            assertEquals("configuration reloaded: server b/s2 changed: weight; server b/s3 added\n\n",
                    send(socket, "reload\n"));
            assertEquals(7, s1.weight(), "set at run time, and the file did not change it");
            assertEquals(4, r.proxy.backends().get("b").server("s2").weight());
            assertTrue(send(socket, "show stat\n").contains("\nb,s3,"), "the new server has its row");
            // Negative control: a broken file is refused with its line, and changes nothing.
            Files.writeString(file, text.replace("servers = [", "servers = [ { name = s9 },"));
            String refused = send(socket, "reload\n");
            assertTrue(refused.startsWith("reload refused, the running configuration stays:\n" + file + ":"), refused);
            assertTrue(r.proxy.backends().get("b").server("s3") != null, "the last good configuration runs");
        }
    }
}
