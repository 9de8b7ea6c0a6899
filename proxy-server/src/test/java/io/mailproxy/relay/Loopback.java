package io.mailproxy.relay;

import io.mailproxy.MailProxy;
import io.mailproxy.config.ConfigLoader;
import io.mailproxy.config.ConfigurationException;
import io.mailproxy.log.SessionLog;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** Loopback fixtures for relay tests: a scripted TCP backend, a proxy in front of it, the session log. */
final class Loopback {

    private Loopback() {
    }

    /** A TCP server on 127.0.0.1 running {@code script} on each accepted connection, in its own thread. */
    static final class Backend implements Closeable {
        private final ServerSocket listener;
        private final Thread acceptor;

        Backend(Consumer<Socket> script) throws IOException {
            listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            acceptor = new Thread(() -> {
                while (!listener.isClosed()) {
                    Socket s;
                    try {
                        s = listener.accept();
                    } catch (IOException e) {
                        return;
                    }
                    Thread t = new Thread(() -> {
                        try (s) {
                            script.accept(s);
                        } catch (IOException | UncheckedIOException e) {
                            // The peer went away: the test sees that from its own side.
                        }
                    }, "backend-conn");
                    t.setDaemon(true);
                    t.start();
                }
            }, "backend-accept");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return listener.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            listener.close();
        }
    }

    /** Reads until the peer's FIN; answers nothing. */
    static void silent(Socket s) {
        try {
            s.getInputStream().transferTo(OutputStream.nullOutputStream());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Copies what it reads back at once. */
    static void echo(Socket s) {
        try {
            s.getInputStream().transferTo(s.getOutputStream());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads everything until the peer's FIN, then answers {@code got:} and the bytes, and closes. */
    static void answerAfterFin(Socket s) {
        try {
            byte[] all = s.getInputStream().readAllBytes();
            OutputStream out = s.getOutputStream();
            out.write("got:".getBytes());
            out.write(all);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A proxy with one plaintext frontend {@code plain} (its own keys in {@code frontendKeys}) in front
     * of {@code backendPort}, without a PROXY header. The listen port is probed free first; when
     * another process takes it meanwhile, a new one is tried.
     */
    static MailProxy proxy(Path dir, String frontendKeys, int backendPort) throws Exception {
        ConfigurationException last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            int port;
            try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = probe.getLocalPort();
            }
            Path file = Files.writeString(dir.resolve("proxy-" + attempt + ".conf"), """
                    mailproxy {
                      io-threads = 1
                      frontends { plain { bind = ["127.0.0.1:%d"], backend = pool
                        %s
                      } }
                      backends { pool {
                        send-proxy = none
                        # these scripted backends do not greet: relay from the connect
                        timeout.server-greeting = null
                        servers = [ { name = s1, address = "127.0.0.1:%d" } ]
                      } }
                    }
                    """.formatted(port, frontendKeys, backendPort));
            try {
                return MailProxy.start(ConfigLoader.load(file));
            } catch (ConfigurationException e) {
                if (!e.getMessage().contains("cannot listen")) {
                    throw e;
                }
                last = e;
            }
        }
        throw last;
    }

    static Socket connect(MailProxy proxy) throws IOException {
        Socket s = new Socket();
        s.connect(proxy.boundAddresses().get(0), 2000);
        s.setSoTimeout(5000);
        return s;
    }

    static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return out.toByteArray();
    }

    /** The lines logged to {@code mailproxy.session} while it is open. */
    static final class SessionLines extends Handler implements AutoCloseable {
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private final Logger logger = SessionLog.LOGGER;

        SessionLines() {
            logger.addHandler(this);
        }

        /** The next line, or null after {@code seconds}. */
        String next(double seconds) throws InterruptedException {
            return lines.poll((long) (seconds * 1000), TimeUnit.MILLISECONDS);
        }

        @Override
        public void publish(LogRecord record) {
            lines.add(record.getMessage());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            logger.removeHandler(this);
        }
    }
}
