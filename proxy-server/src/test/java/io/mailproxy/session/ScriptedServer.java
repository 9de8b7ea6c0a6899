package io.mailproxy.session;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP server on 127.0.0.1 that runs a script on each connection, in a thread of its own: the
 * scripted peers of the fault tests (a server that never greets, one that never reads, one that
 * floods, one that dies in the middle of a delivery).
 */
public final class ScriptedServer implements Closeable {

    /** What the server does with one connection; an exception ends it quietly (the test sees its effect). */
    @FunctionalInterface
    public interface Script {
        void run(Socket s) throws Exception;
    }

    private final ServerSocket listener;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final List<Thread> scripts = new CopyOnWriteArrayList<>();
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger ended = new AtomicInteger();

    public ScriptedServer(Script script) throws IOException {
        this(0, script);
    }

    /** A server on {@code port} (0: a free one). */
    public ScriptedServer(int port, Script script) throws IOException {
        listener = new ServerSocket(port, 1024, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            while (!listener.isClosed()) {
                Socket s;
                try {
                    s = listener.accept();
                } catch (IOException e) {
                    return;
                }
                accepted.incrementAndGet();
                open.add(s);
                Thread t = new Thread(() -> {
                    try (s) {
                        script.run(s);
                    } catch (Exception e) {
                        // the peer went away or the script gave up: the test sees that from its side
                    } finally {
                        open.remove(s);
                        ended.incrementAndGet();
                    }
                }, "scripted-" + listener.getLocalPort());
                t.setDaemon(true);
                scripts.add(t);
                t.start();
            }
        }, "scripted-accept-" + listener.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** Connections accepted so far. */
    public int accepted() {
        return accepted.get();
    }

    /** Connections open now (accepted, script not ended). */
    public int open() {
        return open.size();
    }

    /** Connections whose script has ended. */
    public int ended() {
        return ended.get();
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket s : open) {
            s.close();
        }
        for (Thread t : scripts) {
            t.interrupt();
        }
    }

    // ---- script pieces ----

    public static void write(Socket s, String text) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(text.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** Reads one line (without CR LF), or null at EOF. */
    public static String readLine(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                int n = b.length();
                return n > 0 && b.charAt(n - 1) == '\r' ? b.substring(0, n - 1) : b.toString();
            }
            b.append((char) c);
        }
        return b.length() == 0 ? null : b.toString();
    }

    /** Reads and drops everything until EOF. */
    public static void drain(Socket s) throws IOException {
        s.getInputStream().transferTo(OutputStream.nullOutputStream());
    }

    /** Holds the connection, reading and writing nothing, until the server is closed. */
    public static void neverRead(Socket s) {
        while (!Thread.currentThread().isInterrupted()) {
            java.util.concurrent.locks.LockSupport.park();
        }
    }

    /** Writes {@code bytes} zero bytes in 64 KiB blocks (blocks while the peer does not read). */
    public static void flood(Socket s, long bytes) throws IOException {
        byte[] block = new byte[64 * 1024];
        OutputStream out = s.getOutputStream();
        for (long sent = 0; sent < bytes; sent += block.length) {
            out.write(block, 0, (int) Math.min(block.length, bytes - sent));
        }
        out.flush();
    }

    /** A listening port that drops every SYN: its accept queue is full and nobody accepts. */
    public static final class Blackhole implements Closeable {
        private final ServerSocket listener;
        private final List<Socket> fillers = new CopyOnWriteArrayList<>();

        public Blackhole() throws IOException {
            listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
            // Linux holds backlog + 1 connections nobody accepted; beyond that it drops SYNs.
            while (true) {
                Socket s = new Socket();
                try {
                    s.connect(listener.getLocalSocketAddress(), 300);
                    fillers.add(s);
                } catch (IOException e) {
                    s.close();
                    return;
                }
                if (fillers.size() > 64) {
                    throw new IllegalStateException("the accept queue of a backlog-1 listener did not fill");
                }
            }
        }

        public int port() {
            return listener.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            for (Socket s : fillers) {
                s.close();
            }
            listener.close();
        }
    }

    static UncheckedIOException unchecked(IOException e) {
        return new UncheckedIOException(e);
    }
}
