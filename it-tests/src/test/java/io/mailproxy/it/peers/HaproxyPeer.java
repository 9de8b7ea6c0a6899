package io.mailproxy.it.peers;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Debian's HAProxy 2.6 as a peer named {@code hap}: a TCP frontend whose backend {@code users}
 * sticks clients on their source address in a {@code type ipv6} table synced with the peers of
 * its {@code peers} section, and a stats socket to read that table with {@code show table}.
 */
final class HaproxyPeer implements AutoCloseable {

    /** One line of {@code show table}: the key and its server. */
    private static final Pattern ENTRY = Pattern.compile("key=(\\S+) use=\\d+ exp=\\d+ server_id=(\\d+) server_key=(\\S+)");

    private final Process process;
    private final Path socket;
    private final Path out;
    final int frontendPort;

    private HaproxyPeer(Process process, Path socket, Path out, int frontendPort) {
        this.process = process;
        this.socket = socket;
        this.out = out;
        this.frontendPort = frontendPort;
    }

    /**
     * Starts HAProxy with peer {@code hap} on {@code peerPort} and {@code others} (name to port on
     * 127.0.0.1) as its other peers; {@code synced} false leaves its table out of the section.
     * Its servers are {@code s1} and {@code s2}, ids 1 and 2 by their order.
     */
    static HaproxyPeer start(Path dir, int peerPort, Map<String, Integer> others, boolean synced,
                             int s1, int s2, int frontendPort) throws IOException {
        Path socket = dir.resolve("hap.sock");
        StringBuilder peers = new StringBuilder("peers mp\n  peer hap 127.0.0.1:" + peerPort + "\n");
        others.forEach((name, port) -> peers.append("  peer ").append(name).append(" 127.0.0.1:").append(port).append('\n'));
        Path cfg = Files.writeString(dir.resolve("haproxy.cfg"), """
                global
                  stats socket %s level admin
                defaults
                  mode tcp
                  timeout connect 3s
                  timeout client 30s
                  timeout server 30s
                %s
                frontend imap
                  bind 127.0.0.1:%d
                  default_backend users
                backend users
                  balance roundrobin
                  stick-table type ipv6 size 1k expire 30m %s
                  stick on src
                  server s1 127.0.0.1:%d
                  server s2 127.0.0.1:%d
                """.formatted(socket, peers, frontendPort, synced ? "peers mp" : "", s1, s2));
        Path out = dir.resolve("haproxy.out");
        Process p = new ProcessBuilder("/usr/sbin/haproxy", "-f", cfg.toString(), "-db", "-L", "hap")
                .redirectErrorStream(true).redirectOutput(out.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        HaproxyPeer h = new HaproxyPeer(p, socket, out, frontendPort);
        h.awaitListening();
        return h;
    }

    private void awaitListening() throws IOException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            if (!process.isAlive()) {
                throw new AssertionError("haproxy exited: " + Files.readString(out));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", frontendPort), 500);
                if (Files.exists(socket)) {
                    return;
                }
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("haproxy does not listen on " + frontendPort + ": " + Files.readString(out), e);
                }
            }
            java.util.concurrent.locks.LockSupport.parkNanos(50_000_000);
        }
    }

    /** A command on the stats socket, and HAProxy's whole answer. */
    String command(String command) {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.US_ASCII)));
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(8192);
            while (ch.read(buf) >= 0) {
                answer.write(buf.array(), 0, buf.position());
                buf.clear();
            }
            return answer.toString(StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("haproxy stats socket " + socket, e);
        }
    }

    /** HAProxy's table {@code users}: key (as HAProxy prints it) to "server_id server_key". */
    Map<String, String> table() {
        Map<String, String> entries = new LinkedHashMap<>();
        Matcher m = ENTRY.matcher(command("show table users"));
        while (m.find()) {
            entries.put(m.group(1), m.group(2) + " " + m.group(3));
        }
        return entries;
    }

    String output() {
        try {
            return Files.readString(out);
        } catch (IOException e) {
            return e.toString();
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
