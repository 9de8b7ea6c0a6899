package io.mailproxy.it.limit;

import io.mailproxy.it.ProxyFixture;
import io.mailproxy.it.FreePorts;
import io.mailproxy.MailProxy;
import io.mailproxy.log.SessionLog;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.logging.Handler;
import java.util.logging.LogRecord;

/**
 * mailproxy from HOCON in front of tiny fake IMAP servers (greet {@code * OK name}, then stay
 * silent), plain clients that read one line, and the session log lines.
 */
final class LimitFixture implements AutoCloseable {

    /** Session log lines, as logged. */
    final List<String> log = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> cleanup = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            log.add(r.getMessage());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    LimitFixture() {
        SessionLog.LOGGER.addHandler(capture);
    }

    /** A fake server that greets with {@code * OK name}; closed with the fixture. */
    FakeServer server(String name) throws IOException {
        FakeServer s = new FakeServer(name);
        cleanup.add(s);
        return s;
    }

    /** Starts mailproxy from {@code body} (the content of the {@code mailproxy} block). */
    MailProxy proxy(Path dir, String body) {
        String config = "mailproxy {\n" + body + "\n}\n";
        MailProxy p = ProxyFixture.startFrom(dir.resolve("mailproxy" + System.nanoTime() + ".conf"), config);
        cleanup.add(p);
        return p;
    }

    /** A client connected from {@code from} to 127.0.0.1:{@code port}; closed with the fixture. */
    Socket connect(String from, int port) throws IOException {
        Socket s = new Socket();
        cleanup.add(s);
        s.bind(new InetSocketAddress(from, 0));
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        return s;
    }

    /** The first line {@code s} reads within {@code timeout}, without CRLF; null on timeout; "EOF" at the end. */
    static String line(Socket s, Duration timeout) throws IOException {
        s.setSoTimeout((int) timeout.toMillis());
        InputStream in = s.getInputStream();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        try {
            int b;
            while ((b = in.read()) >= 0 && b != '\n') {
                line.write(b);
            }
            if (b < 0 && line.size() == 0) {
                return "EOF";
            }
        } catch (SocketTimeoutException e) {
            if (line.size() == 0) {
                return null;
            }
            throw e;
        }
        return line.toString(StandardCharsets.US_ASCII).strip();
    }

    /** Whether {@code s} was closed by the peer (read returns EOF) within {@code timeout}. */
    static boolean closedByPeer(Socket s, Duration timeout) throws IOException {
        s.setSoTimeout((int) timeout.toMillis());
        try {
            return s.getInputStream().read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    /** Waits until {@code condition} holds, up to {@code timeout}; returns whether it did. */
    static boolean await(BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    /** A port free now on 127.0.0.1. */
    static int freePort() {
        return FreePorts.next();
    }

    @Override
    public void close() throws IOException {
        SessionLog.LOGGER.removeHandler(capture);
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            try {
                cleanup.get(i).close();
            } catch (IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException(e);
            }
        }
    }

    /** Greets each connection with {@code * OK name}, then reads until the peer closes. */
    static final class FakeServer implements AutoCloseable {
        private final ServerSocket server;
        private final Set<Socket> open = ConcurrentHashMap.newKeySet();
        private final java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();

        FakeServer(String name) throws IOException {
            server = new ServerSocket();
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
            Thread acceptor = new Thread(() -> {
                while (!server.isClosed()) {
                    Socket s;
                    try {
                        s = server.accept();
                    } catch (IOException e) {
                        return;
                    }
                    open.add(s);
                    accepted.incrementAndGet();
                    Thread t = new Thread(() -> {
                        try (s) {
                            s.getOutputStream().write(("* OK " + name + "\r\n").getBytes(StandardCharsets.US_ASCII));
                            while (s.getInputStream().read() >= 0) {
                                // silent, as an idle IMAP session
                            }
                        } catch (IOException e) {
                            // closed by the test or reset by the peer: over either way
                        } finally {
                            open.remove(s);
                        }
                    }, "fake-" + name + "-conn");
                    t.setDaemon(true);
                    t.start();
                }
            }, "fake-" + name);
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return server.getLocalPort();
        }

        /** Connections accepted since start. */
        int accepted() {
            return accepted.get();
        }

        /** Connections the peer has not closed yet. */
        int open() {
            return open.size();
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : open) {
                s.close();
            }
        }
    }
}
