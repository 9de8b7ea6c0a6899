package io.mailproxy.peers;

import io.mailproxy.session.ProxyRunner;
import io.mailproxy.session.ScriptedServer;
import io.mailproxy.stick.StickTable;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * mailproxy nodes in this JVM sharing table {@code users} over the peers protocol on loopback, in
 * front of two scripted IMAP servers {@code s1} and {@code s2} that greet with their name.
 */
final class PeerNodes implements Closeable {

    final ScriptedServer s1;
    final ScriptedServer s2;
    final List<String> names = new ArrayList<>();
    final List<Integer> peerPorts = new ArrayList<>();
    /** The port the other nodes reach each node at: its peer port, or a {@link Partition}'s in front of it. */
    final List<Integer> reachAt = new ArrayList<>();
    private final Path dir;

    PeerNodes(Path dir, String... names) throws IOException {
        this.dir = dir;
        s1 = new ScriptedServer(greeter("s1"));
        s2 = new ScriptedServer(greeter("s2"));
        for (String n : names) {
            this.names.add(n);
            peerPorts.add(ProxyRunner.freePort());
            reachAt.add(peerPorts.get(peerPorts.size() - 1));
        }
    }

    private static ScriptedServer.Script greeter(String name) {
        return s -> {
            ScriptedServer.write(s, "* OK " + name + "\r\n");
            ScriptedServer.drain(s);
        };
    }

    /** The configuration body of node {@code name}: {@code peers} goes into its peers section. */
    String body(String name, String table, String peers) {
        List<String> nodes = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            nodes.add("{ name = " + names.get(i) + ", address = \"127.0.0.1:" + reachAt.get(i) + "\" }");
        }
        return """
                frontends { imap { bind = ["127.0.0.1:%%PORT%%"], protocol = imap, backend = imap } }
                stick-tables { users { %s } }
                backends { imap {
                  balance = roundrobin, send-proxy = none, stick-table = users
                  servers = [{ name = s1, address = "127.0.0.1:%d" }, { name = s2, address = "127.0.0.1:%d" }]
                } }
                peers { local-name = %s, bind = "127.0.0.1:%d", nodes = [%s], %s }
                """.formatted(table, s1.port(), s2.port(), name, peerPorts.get(names.indexOf(name)), String.join(", ", nodes), peers)
                .replace("%%PORT%%", "%PORT%");
    }

    ProxyRunner start(String name, String table, String peers) throws IOException {
        return ProxyRunner.start(dir, body(name, table, peers));
    }

    /** Connects through {@code node} from {@code client} and returns the greeting's server name. */
    static String serverFor(ProxyRunner node, String client) throws IOException {
        try (Socket s = node.connect(client)) {
            String line = ScriptedServer.readLine(s);
            if (line == null || !line.startsWith("* OK ")) {
                throw new AssertionError(client + " through node: " + line);
            }
            return line.substring(5);
        }
    }

    static StickTable table(ProxyRunner node) {
        return node.proxy.backends().get("imap").stickTable();
    }

    static StickTable.Entry entry(ProxyRunner node, String client) throws IOException {
        return table(node).peek(InetAddress.getByName(client));
    }

    @Override
    public void close() throws IOException {
        s1.close();
        s2.close();
    }
}
