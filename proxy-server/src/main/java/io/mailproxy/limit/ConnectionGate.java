package io.mailproxy.limit;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.util.AttributeKey;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * {@code max-connections} of the process and of each frontend: at a limit the listeners concerned
 * stop accepting, so that new connections wait in the kernel's listen backlog instead of being
 * refused, and they accept again as sessions end (HAProxy's global and frontend {@code maxconn}).
 *
 * <p>A connection takes a slot when the listener accepts it, before any byte is read, and keeps it
 * until it has ended: for a connection that became a session, until the session is logged (both of
 * its connections closed); for one that did not (a refused PROXY header), until it closes.
 *
 * <p>Threading: a listener's accepts run on its own event loop, and there the slot is counted and
 * the listener paused at once (listeners with a limit accept one connection per read, see
 * {@link #limited}); a connection the kernel had already handed over in that round is held, not
 * initialised, until a slot frees, so no session ever runs past a limit. Slots free on any event
 * loop; each change of a count is followed by a re-evaluation on every listener's event loop, which
 * reads the counts then: the last re-evaluation sees the last count, so a listener never stays
 * paused below its limits.
 */
public final class ConnectionGate {

    /** The slot a client channel holds, for {@link #slotOf}. */
    private static final AttributeKey<Slot> SLOT = AttributeKey.valueOf(ConnectionGate.class, "slot");

    /** Sessions against a maximum; 0 = no maximum. */
    public static final class Counter {
        private volatile int max;
        private final AtomicInteger count = new AtomicInteger();

        Counter(int max) {
            this.max = max;
        }

        /** The maximum; 0 = none. */
        public int max() {
            return max;
        }

        /** Connections holding a slot now. */
        public int count() {
            return count.get();
        }

        boolean full() {
            return max > 0 && count.get() >= max;
        }
    }

    /** One accepted connection's share of the counts; released once. */
    public final class Slot {
        private final Counter frontend;
        private final AtomicBoolean released = new AtomicBoolean();
        private volatile boolean owned;

        private Slot(Counter frontend) {
            this.frontend = frontend;
        }

        /** A session took over this connection: it releases the slot when it has ended. */
        public void ownedBySession() {
            owned = true;
        }

        /** Frees the slot (only the first call counts). */
        public void release() {
            if (released.compareAndSet(false, true)) {
                frontend.count.decrementAndGet();
                global.count.decrementAndGet();
                update();
            }
        }
    }

    private final Counter global;
    /** Every listener's counter, in the order they were set up. */
    private final List<AcceptCounter> listeners = new CopyOnWriteArrayList<>();

    private static final Logger LOG = Logger.getLogger(ConnectionGate.class.getName());

    /** How long a listener stops accepting after an accept failed (HAProxy pauses a listener likewise). */
    static final long ACCEPT_PAUSE_MILLIS = 1000;
    /** At most one line about failed accepts in this long; the lines in between are counted. */
    static final long ACCEPT_FAILURE_LOG_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

    /** The process's open-files limit, for the line that says what to change (-1: unknown). */
    private final long descriptorLimit;
    private final AtomicLong acceptFailures = new AtomicLong();
    private final AtomicLong lastFailureLine = new AtomicLong(System.nanoTime() - ACCEPT_FAILURE_LOG_INTERVAL_NANOS);
    private final AtomicLong unloggedFailures = new AtomicLong();

    /** A gate for a process whose sessions are limited to {@code globalMax} (0 = no limit). */
    public ConnectionGate(int globalMax) {
        this(globalMax, -1);
    }

    /**
     * A gate for a process whose sessions are limited to {@code globalMax} (0 = no limit), running
     * with {@code descriptorLimit} open files at most (-1: unknown).
     */
    public ConnectionGate(int globalMax, long descriptorLimit) {
        this.global = new Counter(globalMax);
        this.descriptorLimit = descriptorLimit;
    }

    /** Accepts that failed since the start (out of descriptors, most likely). */
    public long acceptFailures() {
        return acceptFailures.get();
    }

    /**
     * An accept failed (the process is out of file descriptors, or out of memory for a socket):
     * one line says what happened and what to change, at most once a minute with the count of
     * those in between, so that a process that keeps hitting its limit does not flood its log.
     */
    private void acceptFailed(Throwable cause) {
        acceptFailures.incrementAndGet();
        long now = System.nanoTime();
        long last = lastFailureLine.get();
        if (now - last < ACCEPT_FAILURE_LOG_INTERVAL_NANOS || !lastFailureLine.compareAndSet(last, now)) {
            unloggedFailures.incrementAndGet();
            return;
        }
        long since = unloggedFailures.getAndSet(0);
        String message = cause.getMessage() == null ? cause.toString() : cause.getMessage();
        boolean descriptors = message.contains("Too many open files");
        LOG.warning(() -> "accepting paused for " + ACCEPT_PAUSE_MILLIS + "ms at a time: " + (descriptors
                ? "the process is out of file descriptors (open-files limit " + (descriptorLimit < 0 ? "unknown" : descriptorLimit)
                + ", max-connections " + (global.max == 0 ? "0 (no limit)" : global.max) + "); open sessions go on and new"
                + " connections wait in the listen backlog; raise the limit (LimitNOFILE in the systemd unit, ulimit -n)"
                + " or lower max-connections (auto fits it to the limit)"
                : "accept failed: " + message + "; open sessions go on")
                + (since > 0 ? " (" + since + " more since the last such line)" : ""));
    }

    /** The process's count. */
    public Counter global() {
        return global;
    }

    /** A frontend's count against its {@code max-connections} (0 = no limit). */
    public Counter frontend(int max) {
        return new Counter(max);
    }

    /**
     * A reload changed {@code counter}'s maximum (the process's or a frontend's): listeners pause or
     * resume for it at once; connections above a lowered maximum go on, new ones wait.
     */
    public void changeMax(Counter counter, int max) {
        counter.max = max;
        update();
    }

    /** Whether a listener of {@code frontend} has a limit to keep, so must accept one connection per read. */
    public boolean limited(Counter frontend) {
        return global.max > 0 || frontend.max > 0;
    }

    /**
     * The handler for the listeners of {@code frontend} ({@code ServerBootstrap.handler}): it gives
     * each listener a counter of its own, which counts each accepted connection and pauses the
     * listener at a limit.
     */
    public ChannelHandler acceptHandler(Counter frontend) {
        return new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel listener) {
                AcceptCounter counter = new AcceptCounter(frontend);
                listeners.add(counter);
                listener.pipeline().addLast(counter);
                listener.closeFuture().addListener(f -> listeners.remove(counter));
            }
        };
    }

    /** The slot {@code client} holds, or null when it was not accepted through a gate. */
    public static Slot slotOf(Channel client) {
        return client.attr(SLOT).get();
    }

    private void update() {
        for (AcceptCounter l : listeners) {
            Channel channel = l.channel;
            if (channel == null || !channel.isOpen()) {
                continue; // stopping: the listeners close first, their event loop may be gone already
            }
            if (channel.eventLoop().inEventLoop()) {
                l.apply();
            } else {
                try {
                    channel.eventLoop().execute(l::apply);
                } catch (RejectedExecutionException e) {
                    // the listener's event loop shut down after the check above: nothing to resume
                }
            }
        }
    }

    private boolean full(Counter frontend) {
        return global.full() || frontend.full();
    }

    /**
     * One listener's accepts. Pausing takes effect for the next select round, so a connection the
     * kernel already reported in this round can still be accepted past the limit: it is held here,
     * not initialised and not read (as if still in the backlog), until a slot frees.
     *
     * <p>Confined to the listener's event loop.
     */
    private final class AcceptCounter extends ChannelInboundHandlerAdapter {
        private final Counter frontend;
        private final ArrayDeque<Channel> held = new ArrayDeque<>();
        private ChannelHandlerContext ctx;
        private volatile Channel channel;
        /** After a failed accept: no accepting until the pause is over. */
        private boolean paused;

        AcceptCounter(Counter frontend) {
            this.frontend = frontend;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
            this.channel = ctx.channel();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Channel child = (Channel) msg;
            if (!held.isEmpty() || full(frontend)) {
                held.add(child);
                update();
                return;
            }
            admit(child);
            update();
        }

        private void admit(Channel child) {
            Slot slot = new Slot(frontend);
            frontend.count.incrementAndGet();
            global.count.incrementAndGet();
            child.attr(SLOT).set(slot);
            child.closeFuture().addListener(f -> {
                if (!slot.owned) {
                    slot.release();
                }
            });
            ctx.fireChannelRead(child);
        }

        /** Admits held connections while there is room, then pauses or resumes the listener. */
        void apply() {
            while (!held.isEmpty() && !full(frontend)) {
                admit(held.poll());
            }
            boolean open = !full(frontend) && !paused;
            if (channel.isOpen() && channel.config().isAutoRead() != open) {
                // autoRead off: Netty stops calling accept(); on again: it reads (accepts) at once.
                channel.config().setAutoRead(open);
            }
        }

        /**
         * An accept failed (Netty fires it on the listener's pipeline): the listener pauses for a
         * moment and resumes by itself; the exception goes no further (Netty's own handler would log
         * it at the pipeline's tail once a second).
         */
        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            acceptFailed(cause);
            if (!paused) {
                paused = true;
                apply();
                ctx.executor().schedule(() -> {
                    paused = false;
                    apply();
                }, ACCEPT_PAUSE_MILLIS, TimeUnit.MILLISECONDS);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            Channel child;
            while ((child = held.poll()) != null) {
                // never registered: closed as ServerBootstrap closes a child it cannot register
                child.unsafe().closeForcibly();
            }
            ctx.fireChannelInactive();
        }
    }
}
