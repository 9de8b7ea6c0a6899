package io.mailproxy.relay;

import io.mailproxy.backend.Backend;
import io.mailproxy.backend.Server;
import io.mailproxy.log.SessionLog;
import io.mailproxy.log.Termination;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import java.net.InetSocketAddress;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One client session: its two channels, what happened to it and the line logged when it ends.
 *
 * <p>Threading: the server channel is registered on the client channel's event loop (as in Netty's
 * proxy example), so every method here runs on that one thread and no field needs to be volatile.
 */
public final class Session {

    private final Channel client;
    private final String frontend;
    private final boolean tls;
    private final Backend backend;
    private final AtomicInteger processActive;
    private final AtomicInteger frontendActive;
    private final long acceptedAtMillis = System.currentTimeMillis();
    private final long acceptedAtNanos = System.nanoTime();

    private InetSocketAddress clientAddress;
    private String uniqueId;
    private Channel serverChannel;
    private Server server;
    private long connectMillis = -1;
    private int retries;
    private long bytesToClient;
    private long bytesFromClient;
    private Termination termination;
    private String detail;
    private boolean connecting;
    private boolean logged;
    /** When it entered the backend's queue, while it waits there; else -1. */
    private long queuedAtNanos = -1;
    private long queueNanos;
    private int serverQueueAhead;
    private int backendQueueAhead;
    /** Released once the session is logged: the frontend's and the process's session count. */
    private Runnable onEnd;

    public Session(Channel client, String frontend, boolean tls, Backend backend,
                   AtomicInteger processActive, AtomicInteger frontendActive) {
        this.client = client;
        this.frontend = frontend;
        this.tls = tls;
        this.backend = backend;
        this.processActive = processActive;
        this.frontendActive = frontendActive;
        this.clientAddress = (InetSocketAddress) client.remoteAddress();
        processActive.incrementAndGet();
        frontendActive.incrementAndGet();
        backend.active().incrementAndGet();
        client.closeFuture().addListener(f -> maybeLog());
    }

    public Channel client() {
        return client;
    }

    public Backend backend() {
        return backend;
    }

    /** The client's address: the socket's peer, or what a trusted PROXY header said. */
    public InetSocketAddress clientAddress() {
        return clientAddress;
    }

    public void clientAddress(InetSocketAddress address) {
        this.clientAddress = address;
    }

    /**
     * An id for this session, 32 hex digits from a random UUID, made on first use: the UNIQUE_ID
     * TLV of the PROXY header (proxy-v2-options unique-id), the same on every connection attempt.
     */
    public String uniqueId() {
        if (uniqueId == null) {
            uniqueId = UUID.randomUUID().toString().replace("-", "");
        }
        return uniqueId;
    }

    /** Runs once when the session has ended and been logged (the connection limits count it free). */
    public void onEnd(Runnable r) {
        this.onEnd = r;
    }

    /** It waits in the backend's queue; {@code serverAhead}/{@code backendAhead} for %sq/%bq. */
    public void queued(int serverAhead, int backendAhead) {
        queuedAtNanos = System.nanoTime();
        serverQueueAhead = serverAhead;
        backendQueueAhead = backendAhead;
    }

    /** Whether it waits in the backend's queue now. */
    public boolean waiting() {
        return queuedAtNanos >= 0;
    }

    /** It left the queue: granted a slot, timed out, or its client left. */
    public void dequeued() {
        if (queuedAtNanos >= 0) {
            queueNanos += System.nanoTime() - queuedAtNanos;
            queuedAtNanos = -1;
        }
    }

    /** The channel to the server once connected, else null. */
    public Channel serverChannel() {
        return serverChannel;
    }

    /** The channel on the other side of {@code side}, or null when it does not exist yet. */
    public Channel peer(Side side) {
        return side == Side.CLIENT ? serverChannel : client;
    }

    /** A connection attempt to {@code s} begins. */
    public void connecting(Server s, boolean retry) {
        connecting = true;
        if (retry) {
            retries++;
        }
        server = s;
    }

    /** The attempt failed; the server is forgotten unless another attempt picks it again. */
    public void attemptFailed() {
        connecting = false;
        server = null;
    }

    /** The server channel is connected and its header written: the relay may start. */
    public void connected(Channel channel) {
        connecting = false;
        serverChannel = channel;
        connectMillis = (System.nanoTime() - acceptedAtNanos) / 1_000_000;
        Server placed = server;
        placed.attach(this);
        channel.closeFuture().addListener(f -> {
            placed.detach(this);
            placed.release();
            maybeLog();
        });
    }

    public void countToClient(int bytes) {
        bytesToClient += bytes;
    }

    public void countFromClient(int bytes) {
        bytesFromClient += bytes;
    }

    /**
     * Ends the session: the first caller's reason is the one logged. Data already written is
     * flushed before each channel closes.
     */
    public void end(Termination reason, String why) {
        if (termination == null) {
            termination = reason;
            detail = why;
        }
        closeOnFlush(client);
        if (serverChannel != null) {
            closeOnFlush(serverChannel);
        }
    }

    /** Writes the protocol's refusal to the client, then ends the session. */
    public void refuse(byte[] reply, Termination reason, String why) {
        if (termination == null) {
            termination = reason;
            detail = why;
        }
        if (client.isActive()) {
            client.writeAndFlush(Unpooled.wrappedBuffer(reply)).addListener(ChannelFutureListener.CLOSE);
        }
    }

    public boolean ended() {
        return termination != null;
    }

    private static void closeOnFlush(Channel ch) {
        if (ch.isActive()) {
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            ch.close();
        }
    }

    private void maybeLog() {
        if (logged || client.isOpen() || connecting || (serverChannel != null && serverChannel.isOpen())) {
            return;
        }
        logged = true;
        long now = System.nanoTime();
        long total = (now - acceptedAtNanos) / 1_000_000;
        boolean waiting = queuedAtNanos >= 0;
        long waited = (queueNanos + (waiting ? now - queuedAtNanos : 0)) / 1_000_000;
        Termination t = termination != null ? termination
                : serverChannel != null ? Termination.NORMAL
                : waiting ? Termination.CLIENT_GONE_IN_QUEUE : Termination.CLIENT_GONE_BEFORE_CONNECT;
        new SessionLog(clientAddress, acceptedAtMillis, frontend, tls, backend.name(),
                serverChannel != null ? server.name() : null, connectMillis, total, bytesToClient, bytesFromClient,
                t, processActive.get(), frontendActive.get(), backend.active().get(),
                serverChannel != null ? server.activeSessions() + 1 : 0, retries, detail, waited, serverQueueAhead,
                backendQueueAhead).log();
        processActive.decrementAndGet();
        frontendActive.decrementAndGet();
        backend.active().decrementAndGet();
        if (onEnd != null) {
            onEnd.run();
        }
    }
}
