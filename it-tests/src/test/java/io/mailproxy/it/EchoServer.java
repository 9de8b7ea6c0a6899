package io.mailproxy.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A plain-socket echo server on 127.0.0.1, one blocking thread per connection: it reads only as
 * fast as it can write back, so a client that stops reading stops it, as a real server would be.
 * Its socket buffers are small so that the amount of data that kernel buffers can absorb stays
 * small next to what a test moves.
 */
final class EchoServer implements AutoCloseable {

    /** What the server does once the client's FIN arrived and everything was echoed. */
    enum AtEof {
        /** Shut down its output and close: the client then reads its own EOF. */
        CLOSE,
        /** Keep the connection open until the server is closed. */
        STAY_OPEN
    }

    static final int SOCKET_BUFFER = 64 * 1024;

    private final ServerSocket server;
    private final AtEof atEof;
    private final AtomicInteger eofsSeen = new AtomicInteger();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final CountDownLatch closed = new CountDownLatch(1);

    EchoServer(AtEof atEof) throws IOException {
        this.atEof = atEof;
        this.server = new ServerSocket();
        // Set before bind so that accepted sockets start with it (and TCP window scaling fits it).
        server.setReceiveBufferSize(SOCKET_BUFFER);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread acceptor = new Thread(this::acceptLoop, "echo-accept-" + port());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    /** How many connections have delivered their client's FIN to this server. */
    int eofsSeen() {
        return eofsSeen.get();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                open.add(s);
                Thread t = new Thread(() -> echo(s), "echo-" + s.getPort());
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                // Closed by close(): the loop ends.
            }
        }
    }

    private void echo(Socket s) {
        try (s) {
            s.setSendBufferSize(SOCKET_BUFFER);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            byte[] buf = new byte[16 * 1024];
            int n;
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
            }
            out.flush();
            eofsSeen.incrementAndGet();
            if (atEof == AtEof.STAY_OPEN) {
                closed.await();
            }
            s.shutdownOutput();
        } catch (IOException e) {
            // The peer reset or the server is closing: nothing left to echo to.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            open.remove(s);
        }
    }

    @Override
    public void close() throws IOException {
        closed.countDown();
        server.close();
        for (Socket s : open) {
            s.close();
        }
    }
}
