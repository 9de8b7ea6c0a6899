package io.mailproxy.it.balance;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny IMAP-like server on 127.0.0.1: greets each connection with {@code * OK name} and then
 * stays silent, reading (and ignoring) until the other side closes. It counts the connections it
 * accepted and those still open, which is what a balancing test needs to see from the server side.
 * One blocking thread per connection: a few hundred at most in these tests.
 */
final class FakeMailServer implements AutoCloseable {

    private final String name;
    private final ServerSocket server;
    private final AtomicInteger accepted = new AtomicInteger();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();

    FakeMailServer(String name) throws IOException {
        this.name = name;
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 512);
        Thread acceptor = new Thread(this::acceptLoop, "fake-" + name + "-accept");
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

    /** Closes up to {@code n} open connections from this side; returns how many. */
    int closeSome(int n) {
        int closed = 0;
        for (Socket s : open) {
            if (closed == n) {
                break;
            }
            if (open.remove(s)) {
                quietClose(s);
                closed++;
            }
        }
        return closed;
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            accepted.incrementAndGet();
            open.add(s);
            Thread t = new Thread(() -> serve(s), "fake-" + name + "-conn");
            t.setDaemon(true);
            t.start();
        }
    }

    private void serve(Socket s) {
        try (s; InputStream in = s.getInputStream()) {
            s.getOutputStream().write(("* OK " + name + "\r\n").getBytes(StandardCharsets.US_ASCII));
            byte[] buffer = new byte[1024];
            while (in.read(buffer) >= 0) {
                // silent: a long IMAP session that idles
            }
        } catch (IOException e) {
            // the test closed it, or the peer reset it: either way it is over
        } finally {
            open.remove(s);
        }
    }

    private static void quietClose(java.io.Closeable s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        quietClose(server);
        open.forEach(FakeMailServer::quietClose);
        open.clear();
    }
}
