package io.mailproxy.checks;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * A scripted server on 127.0.0.1 and a free port, in the spirit of HAProxy's vtc {@code server}
 * blocks: each accepted connection runs the script on its own thread with plain blocking sockets.
 * {@link #close()} waits for the scripts and rethrows the first failure, so a test also fails when
 * the server did not receive what it expected.
 */
final class FakeServer implements AutoCloseable {

    /** One connection's script. */
    interface Script {
        void run(Conn conn) throws Exception;
    }

    private static final int READ_TIMEOUT_MILLIS = 5000;
    private static final long JOIN_MILLIS = 5000;

    private static SSLContext serverTls;

    private final ServerSocket listener;
    private final Script script;
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();
    private final AtomicInteger accepted = new AtomicInteger();
    private final Thread acceptor;

    private FakeServer(ServerSocket listener, Script script) {
        this.listener = listener;
        this.script = script;
        this.acceptor = new Thread(this::acceptLoop, "fake-server-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** A plaintext server. */
    static FakeServer start(Script script) throws IOException {
        return new FakeServer(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), script);
    }

    /** A TLS server with the self-signed test certificate (src/test/resources/tls/server.p12). */
    static FakeServer startTls(Script script) throws Exception {
        return new FakeServer(serverTls().getServerSocketFactory().createServerSocket(0, 50,
                InetAddress.getLoopbackAddress()), script);
    }

    private static synchronized SSLContext serverTls() throws Exception {
        if (serverTls == null) {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            try (InputStream in = FakeServer.class.getResourceAsStream("/tls/server.p12")) {
                keys.load(in, "changeit".toCharArray());
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, "changeit".toCharArray());
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), null, null);
            serverTls = context;
        }
        return serverTls;
    }

    InetSocketAddress address() {
        return new InetSocketAddress(listener.getInetAddress(), listener.getLocalPort());
    }

    /** Connections accepted so far. */
    int accepted() {
        return accepted.get();
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            Socket socket;
            try {
                socket = listener.accept();
            } catch (IOException e) {
                return;
            }
            accepted.incrementAndGet();
            Thread t = new Thread(() -> serve(socket), "fake-server-conn");
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    private void serve(Socket socket) {
        try (Socket s = socket) {
            s.setTcpNoDelay(true);
            s.setSoTimeout(READ_TIMEOUT_MILLIS);
            script.run(new Conn(s));
        } catch (Throwable t) {
            failures.add(t);
        }
    }

    @Override
    public void close() {
        try {
            listener.close();
            acceptor.join(JOIN_MILLIS);
            for (Thread t : threads) {
                t.join(JOIN_MILLIS);
                if (t.isAlive()) {
                    failures.add(new AssertionError("a connection script did not finish"));
                }
            }
        } catch (IOException e) {
            failures.add(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failures.add(e);
        }
        if (!failures.isEmpty()) {
            Throwable first = failures.get(0);
            if (first instanceof Error error) {
                throw error;
            }
            throw new AssertionError("fake server script failed: " + first, first);
        }
    }

    /** One accepted connection, seen from the server. */
    static final class Conn {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        Conn(Socket socket) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
        }

        Socket socket() {
            return socket;
        }

        /** Continues the connection in TLS, as the server (after a PROXY header read in clear). */
        Conn startTls() throws Exception {
            SSLSocket tls = (SSLSocket) serverTls().getSocketFactory().createSocket(socket, null, socket.getPort(), true);
            tls.setUseClientMode(false);
            tls.setSoTimeout(READ_TIMEOUT_MILLIS);
            return new Conn(tls);
        }

        /** Sends text as one write. */
        void send(String text) throws IOException {
            out.write(text.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }

        /** Sends text one byte per write, with a pause so that each byte travels alone. */
        void sendBytewise(String text) throws IOException, InterruptedException {
            for (byte b : text.getBytes(StandardCharsets.ISO_8859_1)) {
                out.write(b);
                out.flush();
                TimeUnit.MICROSECONDS.sleep(200);
            }
        }

        /** Reads exactly {@code n} bytes. */
        byte[] readBytes(int n) throws IOException {
            byte[] bytes = in.readNBytes(n);
            if (bytes.length != n) {
                throw new EOFException("expected " + n + " bytes, got " + bytes.length);
            }
            return bytes;
        }

        /** Reads one line, without CRLF. */
        String readLine() throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) != '\n') {
                if (b < 0) {
                    throw new EOFException("connection closed after \"" + line + "\"");
                }
                line.write(b);
            }
            String s = line.toString(StandardCharsets.ISO_8859_1);
            return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
        }

        /** Reads one line and asserts it. */
        void expectLine(String expected) throws IOException {
            String line = readLine();
            if (!expected.equals(line)) {
                throw new AssertionError("server expected \"" + expected + "\" but received \"" + line + "\"");
            }
        }

        /** Reads and discards until the client closes (or resets) the connection. */
        void awaitClose() throws IOException {
            try {
                while (in.read() >= 0) {
                    // discard
                }
            } catch (SocketException reset) {
                // a reset is a close too
            }
        }
    }
}
