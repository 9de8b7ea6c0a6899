package io.mailproxy.session;

import io.mailproxy.MailProxy;
import io.mailproxy.config.ConfigLoader;
import io.mailproxy.config.ConfigurationException;
import io.mailproxy.log.LogCapture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * A proxy started in this JVM from a configuration text, the way {@code mailproxy run} starts it,
 * with its session lines captured. {@code %PORT%} in the text is replaced by a free port for the
 * frontend.
 */
public final class ProxyRunner implements AutoCloseable {

    public final MailProxy proxy;
    public final int port;
    public final LogCapture log;

    private ProxyRunner(MailProxy proxy, int port, LogCapture log) {
        this.proxy = proxy;
        this.port = port;
        this.log = log;
    }

    /** Starts from {@code body}, the text inside {@code mailproxy { ... }}. */
    public static ProxyRunner start(Path dir, String body) throws IOException {
        LogCapture log = LogCapture.sessions();
        ConfigurationException last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            int port = freePort();
            Path file = Files.writeString(Files.createTempFile(dir, "proxy", ".conf"),
                    "mailproxy {\n" + body.replace("%PORT%", Integer.toString(port)) + "\n}\n");
            try {
                return new ProxyRunner(MailProxy.start(ConfigLoader.load(file)), port, log);
            } catch (ConfigurationException e) {
                if (!e.getMessage().contains("cannot listen")) {
                    log.close();
                    throw new AssertionError(e.getMessage(), e);
                }
                last = e;
            }
        }
        log.close();
        throw new AssertionError(last.getMessage(), last);
    }

    public static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    /** A client connected to the frontend from {@code ip} (127.0.0.1, 127.0.0.2, ...). */
    public Socket connect(String ip) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(ip, 0));
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.setSoTimeout(20_000);
        return s;
    }

    /** Waits for {@code condition}, checked every 10 ms, at most {@code timeout}. */
    public static boolean await(BooleanSupplier condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
        }
        return true;
    }

    /**
     * The one line logged for the client {@code s}, waiting for it. Found by the client's port
     * (a closed socket forgets its local address, not its port).
     */
    public String lineOf(Socket s, Duration timeout) {
        java.util.regex.Pattern client = clientPattern(s);
        return log.await(l -> client.matcher(l).lookingAt(), timeout);
    }

    /** How many lines were logged for client {@code s}. */
    public long linesOf(Socket s) {
        java.util.regex.Pattern client = clientPattern(s);
        return log.lines().stream().filter(l -> client.matcher(l).lookingAt()).count();
    }

    private static java.util.regex.Pattern clientPattern(Socket s) {
        return java.util.regex.Pattern.compile("\\S+:" + s.getLocalPort() + " \\[");
    }

    @Override
    public void close() {
        try {
            proxy.close();
        } finally {
            log.close();
        }
    }

    static UncheckedIOException unchecked(IOException e) {
        return new UncheckedIOException(e);
    }
}
