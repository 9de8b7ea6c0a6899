package io.mailproxy.peers;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP forwarder on loopback in front of a node's peer port, that can cut the network: {@link #cut}
 * resets every connection through it and refuses new ones (closes them as they come) until
 * {@link #heal}. Counts the bytes it forwarded toward the node.
 */
final class Partition implements Closeable {

    private final ServerSocket listener;
    private final int target;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final AtomicLong bytesToTarget = new AtomicLong();
    private volatile boolean cut;
    private volatile boolean slow;

    Partition(int target) throws IOException {
        this.target = target;
        listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::accept, "partition-" + target);
        t.setDaemon(true);
        t.start();
    }

    int port() {
        return listener.getLocalPort();
    }

    long bytesToTarget() {
        return bytesToTarget.get();
    }

    void cut() {
        cut = true;
        for (Socket s : open) {
            reset(s);
        }
        open.clear();
    }

    void heal() {
        cut = false;
    }

    /** Forwards about 1 MB/s toward the node, so that a stream of updates is still under way when cut. */
    void slow(boolean slow) {
        this.slow = slow;
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket in = listener.accept();
                if (cut) {
                    reset(in);
                    continue;
                }
                Socket out = new Socket();
                try {
                    out.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), target), 2000);
                } catch (IOException e) {
                    reset(in);
                    continue;
                }
                open.add(in);
                open.add(out);
                pump(in, out, true);
                pump(out, in, false);
            } catch (IOException e) {
                // closed
            }
        }
    }

    private void pump(Socket from, Socket to, boolean toTarget) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16384];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf, 0, toTarget && slow ? 1024 : buf.length)) >= 0) {
                    out.write(buf, 0, n);
                    if (toTarget && slow) {
                        java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
                    }
                    if (toTarget) {
                        bytesToTarget.addAndGet(n);
                    }
                }
            } catch (IOException e) {
                // cut or closed
            } finally {
                reset(from);
                reset(to);
            }
        }, "partition-pump");
        t.setDaemon(true);
        t.start();
    }

    private static void reset(Socket s) {
        try {
            s.setSoLinger(true, 0);
            s.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        cut();
        listener.close();
    }
}
