package io.mailproxy.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * {@code mailproxy.peers}: this node and the others it shares its synced stick tables with over
 * HAProxy's peers protocol (HAProxy's {@code peers} section). Off when {@code bind} is null.
 *
 * @param localName     this node's name in the protocol (HAProxy's {@code localpeer})
 * @param bind          where the other nodes connect, or null: peers off
 * @param nodes         the other nodes (an entry named {@code localName} is this node and is left out)
 * @param resyncTimeout after a start, the most this node waits to be taught the tables before it
 *                      accepts clients; zero: it does not wait
 * @param tls           TLS between the nodes, or null: plain TCP
 */
public record PeersSettings(String localName, BindAddress bind, List<Node> nodes, Duration resyncTimeout, Tls tls) {

    /** Another node: the name it goes by in the protocol and where it listens. */
    public record Node(String name, HostPort address) {
        public Node {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(address, "address");
        }

        /** One element of {@code peers.nodes}, over {@code mailproxy.defaults.peer}. */
        static Node read(ConfigReader r) {
            String name = r.parsed("name", s -> peerName(ConfigReader.nonEmpty(s, "a node needs a name")));
            HostPort address = r.parsed("address", s -> HostPort.parse(
                    ConfigReader.nonEmpty(s, "a node needs an address like \"10.0.0.6:10000\"")).requireResolvable());
            return new Node(name, address);
        }
    }

    /**
     * Mutual TLS between the nodes: each presents {@code cert} (with {@code key}) and requires the
     * other's certificate to chain to {@code ca}.
     */
    public record Tls(CertificateFiles certificate, Path ca) {
        public Tls {
            Objects.requireNonNull(certificate, "certificate");
            Objects.requireNonNull(ca, "ca");
        }

        static Tls read(ConfigReader r) {
            if (!r.bool("enabled")) {
                return null;
            }
            CertificateFiles certificate = CertificateFiles.pair(r);
            Path ca = r.parsed("ca", s -> Path.of(ConfigReader.nonEmpty(s,
                    "TLS between peers needs the CA file that the nodes' certificates chain to")));
            return new Tls(certificate, ca);
        }
    }

    public PeersSettings {
        nodes = List.copyOf(nodes);
        Objects.requireNonNull(localName, "localName");
        Objects.requireNonNull(resyncTimeout, "resyncTimeout");
        Set<String> names = new HashSet<>();
        for (Node n : nodes) {
            if (n.name().equals(localName) || !names.add(n.name())) {
                throw new IllegalArgumentException("node " + n.name() + " is listed twice or is this node");
            }
        }
    }

    /** Whether the section is on: a bind address is configured. */
    public boolean enabled() {
        return bind != null;
    }

    /** {@code mailproxy.peers}. */
    static PeersSettings read(ConfigReader r) {
        String localName = r.optionalParsed("local-name", PeersSettings::peerName);
        BindAddress bind = r.optionalParsed("bind",
                s -> new BindAddress(HostPort.parse(s).requireResolvable(), r.path("bind"), r.origin("bind")));
        if (localName == null) {
            localName = hostName();
        }
        String local = localName;
        Set<String> seen = new HashSet<>();
        List<Node> all = r.list("nodes", n -> {
            Node node = Node.read(n);
            if (!seen.add(node.name())) {
                n.problem("name", "another node is named \"" + node.name() + "\"");
            }
            return node;
        });
        List<Node> nodes = all.stream().filter(n -> !n.name().equals(local)).toList();
        if (bind == null && !nodes.isEmpty()) {
            r.problem("bind", "the address this node listens on for its peers is required when nodes are listed");
        }
        Duration resyncTimeout = r.durationOrZero("resync-timeout");
        Tls tls = r.object("tls", Tls::read);
        return new PeersSettings(localName, bind, nodes, resyncTimeout, tls);
    }

    /**
     * A peer name as HAProxy takes it: it travels on a hello line, where a space or a line end
     * would change its meaning.
     */
    private static String peerName(String s) {
        if (s.isEmpty() || s.chars().anyMatch(c -> c <= ' ' || c == 0x7F)) {
            throw new IllegalArgumentException("\"" + s + "\" is not a peer name: one word without spaces or control characters");
        }
        return s;
    }

    /** HAProxy's default local peer name: the host name. */
    private static String hostName() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env.trim();
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }
}
