package io.mailproxy.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A relay WITHOUT backpressure, for negative controls only: it reads each side as fast as data
 * comes and queues it without bound for the other side. A test that measures backpressure must
 * see the difference between this and mailproxy.
 */
final class UnboundedRelay implements AutoCloseable {

    private static final byte[] EOF = new byte[0];

    private final ServerSocket server;
    private final int targetPort;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();

    UnboundedRelay(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::acceptLoop, "unbounded-relay-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket target = new Socket();
                target.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort));
                open.add(client);
                open.add(target);
                pipe(client, target);
                pipe(target, client);
            } catch (IOException e) {
                // Closed by close(), or the target refused: the client is dropped.
            }
        }
    }

    /** Two threads per direction: one reads into an unbounded queue, one writes from it. */
    private void pipe(Socket from, Socket to) throws IOException {
        BlockingQueue<byte[]> queue = new LinkedBlockingQueue<>();
        InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream();
        start(() -> {
            byte[] buf = new byte[64 * 1024];
            try {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    queue.add(Arrays.copyOf(buf, n));
                }
            } catch (IOException e) {
                // The socket closed: end this direction.
            }
            queue.add(EOF);
        });
        start(() -> {
            try {
                byte[] b;
                while ((b = queue.take()) != EOF) {
                    out.write(b);
                }
                to.shutdownOutput();
            } catch (IOException e) {
                // The socket closed: end this direction.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    private static void start(Runnable r) {
        Thread t = new Thread(r, "unbounded-relay-pipe");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : open) {
            s.close();
        }
    }
}
