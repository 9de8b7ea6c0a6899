package io.mailproxy.peers;

import io.mailproxy.log.Reasons;
import io.mailproxy.peersprotocol.PeerEncoder;
import io.mailproxy.peersprotocol.PeerMessage;
import io.mailproxy.peersprotocol.PeerProtocolError;
import io.mailproxy.peersprotocol.PeerProtocolException;
import io.mailproxy.peersprotocol.ServerKeyCache;
import io.mailproxy.peersprotocol.StatusCode;
import io.mailproxy.stick.EntryBatch;
import io.mailproxy.stick.StickTable;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.net.ssl.SSLException;

/**
 * One connection with a peer, either way (HAProxy's peer applet, {@code peer_io_handler}): the
 * handshake, then the messages. On the peers' event loop, like everything of the section.
 *
 * <p>What it sends, each time there is something to send ({@link #send}), in HAProxy's order: a
 * resync request when this node learns from the peer; acknowledgements of the peer's updates;
 * then either the whole tables (when the peer asked, or fell further behind than the update log
 * holds), ending with FINISHED or PARTIAL, or the updates made since the last one sent; then the
 * confirmations of the peer's FINISHED or PARTIAL. Updates go out in batches of at most
 * {@value #UPDATES_PER_TURN} per turn of the event loop, and stop while the connection's outbound
 * buffer is above its high-water mark, so a large table neither holds the loop nor fills memory.
 *
 * <p>It ends once, with a reason ({@link PeerEnd}) and one log line: the peer closed or went
 * silent for {@value #READ_TIMEOUT_SECONDS} s, broke the protocol (answered with the status or
 * error message HAProxy would send), or this node replaced or closed it.
 */
final class PeerSession extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = Logger.getLogger(Peers.class.getName());

    /** A peer that sends nothing this long is gone (HAProxy: 5 s without a message). */
    static final int READ_TIMEOUT_SECONDS = 5;
    /** A heartbeat goes out after this long without anything else (HAProxy's {@code PEER_HEARTBEAT_TIMEOUT}). */
    static final int HEARTBEAT_SECONDS = 3;
    /** Updates written per turn of the event loop (HAProxy writes 200 per call, {@code tune.peers.max-updates-at-once}). */
    static final int UPDATES_PER_TURN = 2000;
    /** Entries copied from the table at a time. */
    private static final int BATCH = 200;

    private final Peers peers;
    private final boolean inbound;
    private PeerNode node;
    private Channel channel;
    private boolean established;
    /** Sending the whole tables ({@code PEER_F_TEACH_PROCESS}), and done sending them ({@code PEER_F_TEACH_FINISHED}). */
    private boolean teaching;
    private boolean teachFinished;
    private boolean requestSent;
    private int confirms;
    /** A 2.0 peer, which knows no timed updates. */
    private boolean downgraded;
    private final ServerKeyCache keys = new ServerKeyCache();
    /** The table the last updates were for ({@code last_local_table}). */
    private TableCursor lastAnnounced;
    private boolean explicitNext;
    private boolean sendScheduled;
    private boolean mismatchLogged;
    private PeerEnd end;
    private String endDetail;
    private long opened;
    private long sentHere;
    private long receivedHere;

    /** {@code node} is null for an accepted connection until its hello names the peer. */
    PeerSession(Peers peers, PeerNode node, boolean inbound) {
        this.peers = peers;
        this.node = node;
        this.inbound = inbound;
    }

    boolean established() {
        return established;
    }

    boolean inbound() {
        return inbound;
    }

    Channel channel() {
        return channel;
    }

    boolean teaching() {
        return teaching;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        opened = System.nanoTime();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (!inbound && end == null && ctx.pipeline().get(io.netty.handler.ssl.SslHandler.class) == null) {
            hello();
        }
        ctx.fireChannelActive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent tls) {
            if (tls.isSuccess() && !inbound && end == null) {
                hello();
            } else if (!tls.isSuccess()) {
                end(PeerEnd.TLS_HANDSHAKE, Reasons.of(tls.cause()));
            }
        } else if (evt instanceof IdleStateEvent idle) {
            if (idle.state() == IdleState.READER_IDLE) {
                if (established) {
                    node.heartbeatTimeouts++;
                }
                end(PeerEnd.TIMEOUT, null);
            } else if (idle.state() == IdleState.WRITER_IDLE && established) {
                ByteBuf out = channel.alloc().buffer(2);
                PeerEncoder.control(out, PeerMessage.Control.HEARTBEAT);
                channel.writeAndFlush(out, channel.voidPromise());
                node.heartbeatsSent++;
            }
        }
        ReferenceCountUtil.release(evt);
    }

    private void hello() {
        node.lastStatus = StatusCode.CONNECTED;
        ByteBuf out = channel.alloc().buffer(64);
        PeerEncoder.hello(out, PeerMessage.Hello.of(node.name(), peers.localName(), ProcessHandle.current().pid()));
        channel.writeAndFlush(out, channel.voidPromise());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (end != null || !(msg instanceof PeerMessage m)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (m instanceof PeerMessage.Hello h) {
            accepted(h);
        } else if (m instanceof PeerMessage.Status s) {
            status(s);
        } else if (!established) {
            // Bytes a refused peer sent after its hello: nothing to do with them.
            return;
        } else if (m instanceof PeerMessage.Update u) {
            update(u);
        } else if (m instanceof PeerMessage.Control c) {
            control(c);
        } else if (m instanceof PeerMessage.TableDefinition d) {
            definition(d);
        } else if (m instanceof PeerMessage.Ack a) {
            ack(a);
        } else if (m instanceof PeerMessage.Error e) {
            node.protocolErrors++;
            end(PeerEnd.ERROR_FROM_PEER, e.type() == PeerMessage.Error.SIZE_LIMIT ? "size limit reached" : "protocol error");
        }
        // A table switch needs nothing here: the decoder tags each update with its table.
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        send();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            send();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable c = cause instanceof DecoderException && cause.getCause() != null
                && !(cause instanceof PeerProtocolException) ? cause.getCause() : cause;
        if (c instanceof PeerProtocolException e) {
            refuse(e.error(), e.getMessage());
        } else if (c instanceof SSLException) {
            end(PeerEnd.TLS_HANDSHAKE, Reasons.of(c));
        } else {
            end(PeerEnd.IO_ERROR, Reasons.of(c));
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        end(PeerEnd.CLOSED_BY_PEER, null);
        ctx.fireChannelInactive();
    }

    /** A protocol error: the status a hello is answered with, or HAProxy's error message, then close. */
    private void refuse(PeerProtocolError error, String detail) {
        if (end != null) {
            return;
        }
        ByteBuf out = channel.alloc().buffer(8);
        if (!established && inbound && error.status() != 0) {
            PeerEncoder.status(out, StatusCode.of(error.status()));
        } else if (established) {
            PeerEncoder.error(out, error.sizeLimit() ? PeerMessage.Error.SIZE_LIMIT : PeerMessage.Error.PROTOCOL);
        }
        if (node != null) {
            node.protocolErrors++;
        }
        channel.writeAndFlush(out);
        end(inbound && !established ? PeerEnd.HELLO_REFUSED : PeerEnd.PROTOCOL_ERROR, detail);
    }

    // ---- handshake ----

    /** An accepted connection's hello: answered 200, or 503/504 as HAProxy answers. */
    private void accepted(PeerMessage.Hello h) {
        StatusCode refusal = null;
        String why = null;
        PeerNode named = peers.node(h.from());
        if (!h.to().equals(peers.localName())) {
            refusal = StatusCode.LOCAL_NAME_MISMATCH;
            why = "the hello is for \"" + h.to() + "\", this node is \"" + peers.localName() + "\"";
        } else if (named == null) {
            refusal = StatusCode.UNKNOWN_PEER;
            why = "\"" + h.from() + "\" is not one of peers.nodes";
        }
        if (refusal != null) {
            ByteBuf out = channel.alloc().buffer(8);
            PeerEncoder.status(out, refusal);
            channel.writeAndFlush(out);
            end(PeerEnd.HELLO_REFUSED, refusal.code() + " " + refusal.shortName() + ": " + why);
            return;
        }
        node = named;
        downgraded = h.downgraded();
        peers.claim(this, node);
        ByteBuf out = channel.alloc().buffer(8);
        PeerEncoder.status(out, StatusCode.SUCCESS);
        channel.write(out, channel.voidPromise());
        establish();
    }

    private void status(PeerMessage.Status s) {
        node.lastStatus = s.status();
        node.lastHandshake = System.nanoTime();
        if (s.code() != StatusCode.SUCCESS.code()) {
            end(PeerEnd.REFUSED, "status " + s.code() + " (" + s.status().shortName() + ")");
            return;
        }
        establish();
    }

    private void establish() {
        established = true;
        node.lastStatus = StatusCode.SUCCESS;
        node.lastHandshake = System.nanoTime();
        for (TableCursor c : node.cursors) {
            c.connected();
        }
        LOG.info(() -> "peer " + node.name() + " connected (" + direction() + ")");
        peers.established(node);
        send();
    }

    // ---- what comes in ----

    private void control(PeerMessage.Control c) {
        switch (c.type()) {
            case PeerMessage.Control.RESYNC_REQUEST -> {
                // Already sending the whole tables (the peer was further behind than the update
                // log): what was sent on this connection counts, the walk goes on.
                if (!teaching || teachFinished) {
                    startTeaching();
                }
            }
            case PeerMessage.Control.RESYNC_FINISHED, PeerMessage.Control.RESYNC_PARTIAL -> {
                confirms++;
                if (node.learnAssigned) {
                    node.resyncsLearned++;
                    peers.learned(node, c.type() == PeerMessage.Control.RESYNC_FINISHED);
                }
            }
            case PeerMessage.Control.RESYNC_CONFIRM -> {
                if (teaching && teachFinished) {
                    for (TableCursor t : node.cursors) {
                        t.acked = t.teachOrigin;
                        t.lastPushed = t.teachOrigin;
                    }
                    teaching = false;
                    teachFinished = false;
                }
            }
            case PeerMessage.Control.HEARTBEAT -> node.heartbeatsReceived++;
            default -> {
                // a control type this version does not know: ignored, as HAProxy ignores it
            }
        }
    }

    private void definition(PeerMessage.TableDefinition d) {
        for (TableCursor c : node.cursors) {
            if (c.remoteId == d.tableId()) {
                c.remoteId = -1;
            }
        }
        for (TableCursor c : node.cursors) {
            if (c.table.matches(d)) {
                c.remoteId = d.tableId();
                return;
            }
            if (d.name().equals(c.table.name()) && !mismatchLogged) {
                mismatchLogged = true;
                LOG.warning(() -> "peer " + node.name() + ": its table " + d.name() + " has key type " + d.keyType()
                        + " of " + d.keyLength() + " bytes, not ipv6 (5) of 16: its entries are ignored"
                        + " (HAProxy: stick-table type ipv6)");
            }
        }
    }

    private void update(PeerMessage.Update u) {
        TableCursor c = node.byRemoteId(u.tableId());
        if (c == null) {
            return;
        }
        c.lastGet = u.updateId();
        node.updatesReceived++;
        receivedHere++;
        node.lastUpdateReceived = System.nanoTime();
        byte[] key = u.key();
        boolean learned = key.length == 16;
        if (learned) {
            long[] k = StickTable.key(key);
            learned = c.table.table().learn(k[0], k[1], u.serverKey(), u.serverId(), downgraded ? null : u.expire());
        }
        if (!learned) {
            node.updatesIgnored++;
        }
    }

    private void ack(PeerMessage.Ack a) {
        // HAProxy ignores acknowledgements while it teaches: they are of the teaching's ids.
        TableCursor c = teaching ? null : node.byLocalId(a.tableId());
        if (c != null) {
            long before = c.acked;
            c.acknowledged(a.updateId());
            if (c.acked > before) {
                node.updatesAcknowledged += c.acked - before;
            }
        }
    }

    // ---- what goes out ----

    /** Sends the whole tables: the peer asked, or fell further behind than the update log holds. */
    private void startTeaching() {
        teaching = true;
        teachFinished = false;
        for (TableCursor c : node.cursors) {
            c.teachOrigin = c.table.table().lastUpdate();
            c.walk = 0;
        }
    }

    /** Writes what there is to write, as the class comment says; again later when it had more. */
    void send() {
        if (!established || end != null || !channel.isActive()) {
            return;
        }
        ByteBuf out = channel.alloc().ioBuffer(4096);
        if (node.learnAssigned && !requestSent) {
            PeerEncoder.control(out, PeerMessage.Control.RESYNC_REQUEST);
            requestSent = true;
        }
        for (TableCursor c : node.cursors) {
            if (c.remoteId >= 0 && c.lastGet != c.lastAcked) {
                PeerEncoder.ack(out, c.remoteId, c.lastGet);
                c.lastAcked = c.lastGet;
            }
        }
        explicitNext = true;
        ByteBuf rest = teaching ? (teachFinished ? out : teach(out)) : node.learnAssigned ? out : push(out);
        boolean more = rest == null;
        out = more ? channel.alloc().ioBuffer(64) : rest;
        while (confirms > 0) {
            PeerEncoder.control(out, PeerMessage.Control.RESYNC_CONFIRM);
            confirms--;
        }
        channel.writeAndFlush(out, channel.voidPromise());
        if (more && channel.isWritable()) {
            // The turn's budget ran out: the rest on the next turn, after the loop's other work.
            // Otherwise the buffer is full, and channelWritabilityChanged sends the rest.
            later();
        }
    }

    /** Sends again on the next turn of the loop, once. */
    private void later() {
        if (!sendScheduled) {
            sendScheduled = true;
            channel.eventLoop().execute(() -> {
                sendScheduled = false;
                send();
            });
        }
    }

    /**
     * A step of the whole tables, then FINISHED (this node is up to date) or PARTIAL. Returns the
     * buffer to go on writing to, or null when the budget or the buffer's high-water mark stopped
     * it (what was written is written).
     */
    private ByteBuf teach(ByteBuf out) {
        int budget = UPDATES_PER_TURN;
        for (TableCursor c : node.cursors) {
            if (c.walk == StickTable.WALK_DONE) {
                continue;
            }
            announce(out, c);
            EntryBatch batch = batch(c);
            while (c.walk != StickTable.WALK_DONE) {
                if (budget <= 0 || !channel.isWritable()) {
                    channel.write(out, channel.voidPromise());
                    return null;
                }
                batch.clear();
                c.walk = c.table.table().walk(c.walk, batch, BATCH);
                for (int i = 0; i < batch.size(); i++) {
                    // Ids of a teaching are the peer's to acknowledge, not positions: the
                    // confirmation sets the position (teachOrigin).
                    write(out, c, batch, i, c.lastWireId < 0 ? c.teachOrigin & 0xFFFF_FFFFL : (c.lastWireId + 1) & 0xFFFF_FFFFL);
                }
                budget -= Math.max(1, batch.size());
                channel.write(out, channel.voidPromise());
                out = channel.alloc().ioBuffer(4096);
            }
        }
        boolean upToDate = peers.upToDate();
        PeerEncoder.control(out, upToDate ? PeerMessage.Control.RESYNC_FINISHED : PeerMessage.Control.RESYNC_PARTIAL);
        teachFinished = true;
        node.resyncsTaught++;
        return out;
    }

    /**
     * The updates after the last one sent, table by table. Returns the buffer to go on writing to,
     * or null when stopped early (see {@link #teach}).
     */
    private ByteBuf push(ByteBuf out) {
        int budget = UPDATES_PER_TURN;
        for (TableCursor c : node.cursors) {
            StickTable table = c.table.table();
            EntryBatch batch = batch(c);
            while (c.lastPushed < table.lastUpdate()) {
                if (budget <= 0 || !channel.isWritable()) {
                    channel.write(out, channel.voidPromise());
                    return null;
                }
                batch.clear();
                long from = c.lastPushed;
                long to = table.readUpdates(from, batch, BATCH);
                if (to == StickTable.LOST) {
                    LOG.info(() -> "peer " + node.name() + " is further behind than table " + table.name()
                            + "'s update log holds: sending it the whole tables");
                    startTeaching();
                    channel.write(out, channel.voidPromise());
                    return null;
                }
                if (batch.size() > 0) {
                    announce(out, c);
                }
                for (int i = 0; i < batch.size(); i++) {
                    write(out, c, batch, i, batch.update(i) & 0xFFFF_FFFFL);
                }
                c.lastPushed = to;
                table.committed(to);
                budget -= Math.max(1, (int) (to - from));
                if (to == from) {
                    // An update whose writer has not finished: its listener wakes the peers again.
                    break;
                }
                channel.write(out, channel.voidPromise());
                out = channel.alloc().ioBuffer(4096);
            }
        }
        return out;
    }

    /** Announces the table before its updates when the last ones were of another table (HAProxy sends a definition). */
    private void announce(ByteBuf out, TableCursor c) {
        if (lastAnnounced != c) {
            PeerEncoder.definition(out, c.table.definition());
            lastAnnounced = c;
            explicitNext = true;
        }
    }

    private void write(ByteBuf out, TableCursor c, EntryBatch batch, int i, long id) {
        boolean explicit = explicitNext || id != ((c.lastWireId + 1) & 0xFFFF_FFFFL);
        long remaining = batch.remainingMillis(i);
        Integer expire = downgraded || remaining < 0 ? null : (int) Math.min(Integer.MAX_VALUE, remaining);
        PeerEncoder.update(out, c.table.definition(), id, explicit, expire, batch.key(i), batch.serverId(i),
                batch.server(i), keys);
        c.lastWireId = id;
        explicitNext = false;
        node.updatesSent++;
        sentHere++;
    }

    private static EntryBatch batch(TableCursor c) {
        if (c.batch == null) {
            c.batch = c.table.table().newBatch(BATCH);
        }
        return c.batch;
    }

    // ---- the end ----

    /** Ends the session once: closes the connection, tells the section, logs one line. */
    void end(PeerEnd reason, String detail) {
        if (end != null) {
            return;
        }
        end = reason;
        endDetail = detail;
        if (channel.isActive()) {
            // What was written (a refusal, an error message) goes out before the close.
            channel.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            channel.close();
        }
        peers.ended(this, node);
        boolean routine = reason == PeerEnd.CLOSED_BY_PEER || reason == PeerEnd.REPLACED || reason == PeerEnd.STOPPING;
        String who = node == null ? "peer connection" : "peer " + node.name();
        LOG.log(routine ? Level.INFO : Level.WARNING, () -> who + " (" + direction() + ") ended after "
                + String.format("%.1fs", (System.nanoTime() - opened) / 1e9) + ": " + reason.code() + ", "
                + reason.sentence() + (detail == null ? "" : " (" + detail + ")")
                + (established ? "; updates sent " + sentHere + ", received " + receivedHere : ""));
    }

    private String direction() {
        InetSocketAddress local = (InetSocketAddress) channel.localAddress();
        InetSocketAddress remote = (InetSocketAddress) channel.remoteAddress();
        String l = local == null ? "?" : local.getAddress().getHostAddress() + ":" + local.getPort();
        String r = remote == null ? (node == null ? "?" : String.valueOf(node.address)) : remote.getAddress().getHostAddress() + ":" + remote.getPort();
        return inbound ? "inbound, " + r + " -> " + l : "outbound, " + l + " -> " + r;
    }
}
