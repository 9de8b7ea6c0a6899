package io.mailproxy.peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.log.LogCapture;
import io.mailproxy.session.ProxyRunner;
import io.mailproxy.tls.GeneratedCertificate;
import io.mailproxy.tls.SelfSignedCertificates;
import io.mailproxy.tls.SelfSignedCertificates.KeyEncoding;
import io.mailproxy.tls.SelfSignedCertificates.KeyType;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two nodes whose peer connections are TLS, each requiring the other's certificate to chain to its CA. */
class PeerTlsTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String TABLE = "size = 1k, expire = 30m, peers = true";

    @TempDir
    Path dir;

    @Test
    void nodesWithCertificatesOfTheirCaShareTheTable() throws Exception {
        GeneratedCertificate g = certificate("ca1");
        try (LogCapture peersLog = LogCapture.attach(Peers.class.getName());
             PeerNodes nodes = new PeerNodes(dir, "mpa", "mpb");
             ProxyRunner a = nodes.start("mpa", TABLE, "resync-timeout = 200ms, " + tls(g));
             ProxyRunner b = nodes.start("mpb", TABLE, "resync-timeout = 5s, " + tls(g))) {
            PeerNodes.table(a).store(InetAddress.getByName("10.5.0.1"), "s2");
            assertTrue(ProxyRunner.await(() -> entry(b, "10.5.0.1") != null, WAIT));
            assertEquals("s2", entry(b, "10.5.0.1").server());
            assertTrue(peersLog.lines().stream().anyMatch(l -> l.contains("mpb listening on") && l.contains("(TLS)")),
                    peersLog.lines().toString());
        }
    }

    /** Negative control: a node whose certificate another CA signed is refused, and learns nothing. */
    @Test
    void aNodeWithACertificateOfAnotherCaIsRefused() throws Exception {
        GeneratedCertificate ours = certificate("ca1");
        GeneratedCertificate theirs = certificate("ca2");
        try (LogCapture peersLog = LogCapture.attach(Peers.class.getName());
             PeerNodes nodes = new PeerNodes(dir, "mpa", "mpb");
             ProxyRunner a = nodes.start("mpa", TABLE, "resync-timeout = 200ms, " + tls(ours));
             ProxyRunner b = nodes.start("mpb", TABLE, "resync-timeout = 200ms, " + tls(theirs))) {
            PeerNodes.table(a).store(InetAddress.getByName("10.5.0.1"), "s2");
            assertTrue(ProxyRunner.await(() -> peersLog.lines().stream().anyMatch(l -> l.contains("tls-handshake")), WAIT),
                    peersLog.lines().toString());
            assertNull(entry(b, "10.5.0.1"));
            assertTrue(!a.proxy.peers().figures().get(0).connected() && !b.proxy.peers().figures().get(0).connected());
        }
    }

    private GeneratedCertificate certificate(String name) throws Exception {
        return SelfSignedCertificates.signedByNewCa(Files.createDirectories(dir.resolve(name)), List.of("peer.example.test"),
                KeyType.EC_P256, KeyEncoding.PKCS8);
    }

    private static String tls(GeneratedCertificate g) {
        return "tls { enabled = true, cert = \"%s\", key = \"%s\", ca = \"%s\" }".formatted(g.certFile(), g.keyFile(), g.caFile());
    }

    private static io.mailproxy.stick.StickTable.Entry entry(ProxyRunner node, String client) {
        try {
            return PeerNodes.entry(node, client);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
