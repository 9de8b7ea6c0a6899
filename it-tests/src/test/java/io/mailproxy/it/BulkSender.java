package io.mailproxy.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes a given number of pseudo-random bytes to a socket on its own thread, keeping a SHA-256
 * of what it wrote and how far it got, then shuts the socket's output down (FIN).
 */
final class BulkSender extends Thread {

    private static final int CHUNK = 64 * 1024;

    private final Socket socket;
    private final long total;
    private final SplittableRandom random;
    private final MessageDigest sha = sha256();
    private final AtomicLong written = new AtomicLong();
    private volatile IOException failure;
    private volatile byte[] digest;

    BulkSender(Socket socket, long total, long seed) {
        super("bulk-sender-" + socket.getLocalPort());
        setDaemon(true);
        this.socket = socket;
        this.total = total;
        this.random = new SplittableRandom(seed);
    }

    @Override
    public void run() {
        byte[] chunk = new byte[CHUNK];
        try {
            OutputStream out = socket.getOutputStream();
            long left = total;
            while (left > 0) {
                int n = (int) Math.min(CHUNK, left);
                random.nextBytes(chunk);
                sha.update(chunk, 0, n);
                out.write(chunk, 0, n);
                written.addAndGet(n);
                left -= n;
            }
            out.flush();
            socket.shutdownOutput();
            digest = sha.digest();
        } catch (IOException e) {
            failure = e;
        }
    }

    long written() {
        return written.get();
    }

    /** The SHA-256 of everything written, once all was written. */
    byte[] digest() {
        if (failure != null) {
            throw new AssertionError("the sender failed after " + written() + " bytes", failure);
        }
        if (digest == null) {
            throw new AssertionError("the sender has not finished: " + written() + " of " + total + " bytes");
        }
        return digest.clone();
    }

    /** Waits until the sender finished (or failed); true when it did within the timeout. */
    boolean awaitDone(Duration timeout) throws InterruptedException {
        join(timeout.toMillis());
        return !isAlive();
    }

    /**
     * Waits until the sender makes no progress for {@code quiet}, which happens when it is blocked
     * in write because nobody downstream reads; returns the bytes written by then, or -1 when it
     * finished instead.
     */
    long awaitStall(Duration quiet, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        long last = -1;
        long since = System.nanoTime();
        while (System.nanoTime() < deadline) {
            if (!isAlive()) {
                return -1;
            }
            long now = written();
            if (now != last) {
                last = now;
                since = System.nanoTime();
            } else if (System.nanoTime() - since >= quiet.toNanos()) {
                return now;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the sender neither stalled nor finished within " + limit + ": " + written() + " bytes");
    }

    /** What a reader got: the byte count and its SHA-256. */
    record Received(long bytes, byte[] digest) {
    }

    /**
     * Reads until EOF, pausing {@code pause} after every {@code pauseEvery} bytes to be slower than
     * the sender.
     */
    static Received drain(InputStream in, int pauseEvery, Duration pause) throws IOException, InterruptedException {
        MessageDigest sha = sha256();
        byte[] buf = new byte[16 * 1024];
        long bytes = 0;
        long sincePause = 0;
        int n;
        while ((n = in.read(buf)) >= 0) {
            sha.update(buf, 0, n);
            bytes += n;
            sincePause += n;
            if (pauseEvery > 0 && sincePause >= pauseEvery) {
                sincePause = 0;
                Thread.sleep(pause.toMillis());
            }
        }
        return new Received(bytes, sha.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
