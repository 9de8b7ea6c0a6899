package io.mailproxy.peers;

import io.mailproxy.MailProxy;
import io.mailproxy.config.ConfigLoader;
import io.mailproxy.stick.StickTable;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The whole-table resync of a large table, mailproxy to mailproxy beside HAProxy 2.6 to HAProxy
 * 2.6, in one run on this machine: the time a starting node takes to be taught N entries by a
 * peer, and the bytes on the wire both ways (counted by a forwarder each node reaches the other
 * through). The HAProxy pair's first node is taught the table by the mailproxy node (timed too),
 * then the mailproxy nodes stop and the second HAProxy learns it from the first.
 *
 * <pre>
 * java -Xmx3g -cp benchmarks/target/benchmarks.jar io.mailproxy.peers.PeersResyncBenchmark [entries]
 * </pre>
 *
 * Prints one line per measure, and a JSON object last. Not a test: nothing is asserted but that
 * every entry arrived.
 */
public final class PeersResyncBenchmark {

    private static final Pattern USED = Pattern.compile("# table: users, type: ipv6, size:\\d+, used:(\\d+)");

    private PeersResyncBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int size = n + n / 4;
        Path dir = Files.createTempDirectory("peers-resync");
        int mpaPort = freePort();
        int mpbPort = freePort();
        int hap1Port = freePort();
        int hap2Port = freePort();
        int serverPort = freePort(); // nothing listens: no traffic goes through the nodes
        String table = "size = " + size + ", expire = 30m, peers = true";
        StringBuilder json = new StringBuilder("{\"entries\":" + n);

        try (Forwarder toA = new Forwarder(mpaPort); Forwarder toB = new Forwarder(mpbPort)) {
            MailProxy a = start(dir, "mpa", mpaPort, table, serverPort, "1s",
                    "{ name = mpb, address = \"127.0.0.1:" + toB.port() + "\" }, { name = hap1, address = \"127.0.0.1:" + hap1Port + "\" }");
            StickTable ta = a.backends().get("imap").stickTable();
            long fill = System.nanoTime();
            byte[] ip = new byte[4];
            for (int i = 0; i < n; i++) {
                ip[0] = 10;
                ip[1] = (byte) (i >> 16);
                ip[2] = (byte) (i >> 8);
                ip[3] = (byte) i;
                ta.store(InetAddress.getByAddress(ip), (i & 1) == 0 ? "s1" : "s2");
            }
            say("mailproxy node mpa: %d entries stored in %.2f s", ta.count(), secs(fill));

            long t0 = System.nanoTime();
            MailProxy b = start(dir, "mpb", mpbPort, table, serverPort, "300s",
                    "{ name = mpa, address = \"127.0.0.1:" + toA.port() + "\" }");
            double mpSeconds = secs(t0);
            int learned = b.backends().get("imap").stickTable().count();
            long mpBytes = toA.total() + toB.total();
            say("mailproxy node mpb received %d updates", b.peers().figures().get(0).updatesReceived());
            say("mailproxy -> mailproxy: %d entries taught in %.2f s (start to frontend open), %d bytes on the wire (%.1f B/entry)",
                    learned, mpSeconds, mpBytes, (double) mpBytes / Math.max(1, learned));
            json.append(",\"mailproxy_to_mailproxy\":{\"seconds\":").append(String.format("%.3f", mpSeconds))
                    .append(",\"bytes\":").append(mpBytes).append(",\"learned\":").append(learned).append('}');
            b.close();

            // HAProxy's pair: hap1 is taught by mpa, then hap2 by hap1 alone.
            try (Forwarder toH1 = new Forwarder(hap1Port); Forwarder toH2 = new Forwarder(hap2Port)) {
                long h0 = System.nanoTime();
                Haproxy hap1 = Haproxy.start(dir, "hap1", size, serverPort, """
                          peer hap1 127.0.0.1:%d
                          peer hap2 127.0.0.1:%d
                          peer mpa 127.0.0.1:%d
                        """.formatted(hap1Port, toH2.port(), mpaPort));
                try {
                    long at = hap1.awaitUsed(n, 600);
                    double hapLearnSeconds = secs(h0);
                    say("mailproxy -> HAProxy: %d entries taught in %.2f s (process start to used:%d)", at, hapLearnSeconds, at);
                    json.append(",\"mailproxy_to_haproxy\":{\"seconds\":").append(String.format("%.3f", hapLearnSeconds))
                            .append(",\"learned\":").append(at).append('}');
                    a.close();
                    long before = toH1.total() + toH2.total();
                    long t1 = System.nanoTime();
                    Haproxy hap2 = Haproxy.start(dir, "hap2", size, serverPort, """
                              peer hap1 127.0.0.1:%d
                              peer hap2 127.0.0.1:%d
                              peer mpa 127.0.0.1:%d
                            """.formatted(toH1.port(), hap2Port, mpaPort));
                    try {
                        long got = hap2.awaitUsed(n, 600);
                        double hapSeconds = secs(t1);
                        long hapBytes = toH1.total() + toH2.total() - before;
                        say("HAProxy -> HAProxy: %d entries taught in %.2f s (process start to used:%d), %d bytes on the wire (%.1f B/entry)",
                                got, hapSeconds, got, hapBytes, (double) hapBytes / Math.max(1, got));
                        json.append(",\"haproxy_to_haproxy\":{\"seconds\":").append(String.format("%.3f", hapSeconds))
                                .append(",\"bytes\":").append(hapBytes).append(",\"learned\":").append(got).append('}');
                    } finally {
                        hap2.close();
                    }
                } finally {
                    hap1.close();
                }
            }
        }
        System.out.println(json.append('}'));
        System.exit(0);
    }

    private static MailProxy start(Path dir, String name, int peerPort, String table, int serverPort, String resync, String others)
            throws Exception {
        Path file = dir.resolve(name + ".conf");
        Files.writeString(file, """
                mailproxy {
                  frontends { imap { bind = ["127.0.0.1:%d"], protocol = imap, backend = imap } }
                  stick-tables { users { %s } }
                  backends { imap {
                    balance = roundrobin, send-proxy = none, stick-table = users
                    servers = [{ name = s1, address = "127.0.0.1:%d" }, { name = s2, address = "127.0.0.1:%d" }]
                  } }
                  peers { local-name = %s, bind = "127.0.0.1:%d", resync-timeout = %s, nodes = [%s] }
                }
                """.formatted(freePort(), table, serverPort, serverPort, name, peerPort, resync, others));
        return MailProxy.start(ConfigLoader.load(file));
    }

    private static double secs(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    private static void say(String format, Object... args) {
        System.err.println(String.format(format, args));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** HAProxy 2.6 with table users synced in peers section mp. */
    private static final class Haproxy implements Closeable {
        private final Process process;
        private final Path socket;

        private Haproxy(Process process, Path socket) {
            this.process = process;
            this.socket = socket;
        }

        static Haproxy start(Path dir, String name, int size, int serverPort, String peers) throws IOException {
            Path socket = dir.resolve(name + ".sock");
            Path cfg = Files.writeString(dir.resolve(name + ".cfg"), """
                    global
                      stats socket %s level admin
                    defaults
                      mode tcp
                      timeout connect 3s
                      timeout client 30s
                      timeout server 30s
                    peers mp
                    %s
                    backend users
                      stick-table type ipv6 size %d expire 30m peers mp
                      stick on src
                      server s1 127.0.0.1:%d
                      server s2 127.0.0.1:%d
                    """.formatted(socket, peers, size, serverPort, serverPort));
            Process p = new ProcessBuilder("/usr/sbin/haproxy", "-f", cfg.toString(), "-db", "-L", name)
                    .redirectErrorStream(true).redirectOutput(dir.resolve(name + ".out").toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            return new Haproxy(p, socket);
        }

        /** Polls {@code show table} every 20 ms until the table holds {@code n} entries; returns the count. */
        long awaitUsed(int n, int timeoutSeconds) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
            long used = -1;
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("haproxy exited");
                }
                if (Files.exists(socket)) {
                    try {
                        Matcher m = USED.matcher(command("show table"));
                        if (m.find()) {
                            used = Long.parseLong(m.group(1));
                            if (used >= n) {
                                return used;
                            }
                        }
                    } catch (IOException e) {
                        // not listening yet
                    }
                }
                Thread.sleep(20);
            }
            throw new IllegalStateException("HAProxy's table holds " + used + " of " + n);
        }

        private String command(String command) throws IOException {
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
            }
        }

        @Override
        public void close() {
            process.destroy();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process.destroyForcibly();
        }
    }

    /** Forwards connections to a port on 127.0.0.1 and counts the bytes both ways. */
    private static final class Forwarder implements Closeable {
        private final ServerSocket listener;
        private final int target;
        private final AtomicLong bytes = new AtomicLong();

        Forwarder(int target) throws IOException {
            this.target = target;
            listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            daemon(this::accept);
        }

        int port() {
            return listener.getLocalPort();
        }

        long total() {
            return bytes.get();
        }

        private void accept() {
            while (!listener.isClosed()) {
                try {
                    Socket in = listener.accept();
                    Socket out = new Socket();
                    try {
                        out.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), target), 2000);
                    } catch (IOException e) {
                        in.close();
                        continue;
                    }
                    daemon(() -> pump(in, out));
                    daemon(() -> pump(out, in));
                } catch (IOException e) {
                    // closed
                }
            }
        }

        private void pump(Socket from, Socket to) {
            byte[] buf = new byte[65536];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int r;
                while ((r = in.read(buf)) >= 0) {
                    out.write(buf, 0, r);
                    bytes.addAndGet(r);
                }
            } catch (IOException e) {
                // closed
            } finally {
                try {
                    from.close();
                    to.close();
                } catch (IOException e) {
                    // closed
                }
            }
        }

        private static void daemon(Runnable r) {
            Thread t = new Thread(r, "forwarder");
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() throws IOException {
            listener.close();
        }
    }
}
