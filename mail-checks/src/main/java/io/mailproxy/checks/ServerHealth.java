package io.mailproxy.checks;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The health of one server: runs its checks on a schedule and turns results into UP/DOWN
 * transitions, with HAProxy's counting and HAProxy's log lines.
 *
 * <p>Counting follows HAProxy's {@code check->health}, from 0 to {@code rise + fall - 1}: the server
 * is up at {@code rise} or above. A success adds one (a down server reaching {@code rise} goes up,
 * at the top); a failure takes one from an up server above {@code rise}, and otherwise drops the
 * health to 0 (an up server goes down). So {@code rise} consecutive successes bring a server up,
 * {@code fall} consecutive failures from full health take it down, and a success in between a
 * series of failures only buys one more failure.
 *
 * <p>Scheduling follows {@code srv_getinter()}: {@code interval} at full health, {@code downInterval}
 * at zero health while down, {@code fastInterval} in between. The next check is planned when the
 * current one ends, so checks of a server never overlap. The first check comes at a random point
 * within the first interval, so servers started together are not checked in the same millisecond.
 *
 * <p>Threading: all state changes on the event loop given to {@link #start}; {@link #isUp()} and
 * {@link #lastResult()} may be read from any thread.
 */
public final class ServerHealth {

    private static final Logger LOG = Logger.getLogger(ServerHealth.class.getName());

    private final String backend;
    private final String server;
    private final CheckSpec spec;
    private final CheckSchedule schedule;
    private final Checker checker;
    private final TransitionListener listener;
    private final int fullHealth;

    /** Consecutive connection errors that sessions saw (HAProxy's {@code observe layer4}). */
    private final java.util.concurrent.atomic.AtomicInteger trafficErrors = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean up;
    private volatile CheckResult lastResult;
    /** Written on the event loop only; volatile for readers elsewhere. */
    private volatile long results;
    private volatile EventLoop loop;
    private volatile boolean stopped;
    /** False while checks are disabled at run time ({@code disable health}): the state stays as it is. */
    private volatile boolean enabled = true;
    private int health;
    private ScheduledFuture<?> nextCheck;

    /**
     * A server's health, idle until {@link #start}.
     *
     * @param backend  the backend's name, for log lines
     * @param server   the server's name, for log lines
     * @param spec     what each check does
     * @param schedule when to check and how many results change the state
     * @param checker  runs one check ({@link MailCheck} in production)
     * @param listener told of each transition; supplies the backend's counts
     */
    public ServerHealth(String backend, String server, CheckSpec spec, CheckSchedule schedule, Checker checker,
                        TransitionListener listener) {
        this.backend = Objects.requireNonNull(backend, "backend");
        this.server = Objects.requireNonNull(server, "server");
        this.spec = Objects.requireNonNull(spec, "spec");
        this.schedule = Objects.requireNonNull(schedule, "schedule");
        this.checker = Objects.requireNonNull(checker, "checker");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.fullHealth = schedule.rise() + schedule.fall() - 1;
        this.up = schedule.startUp();
        // HAProxy starts a server "up, but will fall down at first failure": health == rise
        this.health = schedule.startUp() ? schedule.rise() : 0;
    }

    /** Starts checking on {@code eventLoop}; the first check comes within one interval. Once only. */
    public void start(EventLoop eventLoop) {
        Objects.requireNonNull(eventLoop, "eventLoop");
        synchronized (this) {
            if (loop != null) {
                throw new IllegalStateException("server " + backend + "/" + server + " is already started");
            }
            loop = eventLoop;
        }
        long firstDelay = ThreadLocalRandom.current().nextLong(schedule.interval().toNanos());
        eventLoop.execute(() -> scheduleCheck(firstDelay));
    }

    /** Stops checking; a check in flight is finished but its result ignored. The state stays as it was. */
    public void stop() {
        stopped = true;
        EventLoop current = loop;
        if (current != null) {
            current.execute(() -> {
                if (nextCheck != null) {
                    nextCheck.cancel(false);
                }
            });
        }
    }

    /**
     * A session's connection to the server failed (HAProxy's {@code observe layer4}): after
     * {@code errorLimit} consecutive ones, that counts as one failed check ({@code on-error
     * fail-check}) and the next check comes at the fast interval. Any thread.
     *
     * @param timeout whether the attempt timed out (connect or greeting) rather than being refused
     */
    public void observeError(String detail, boolean timeout, int errorLimit) {
        if (trafficErrors.incrementAndGet() < errorLimit) {
            return;
        }
        trafficErrors.set(0);
        EventLoop current = loop;
        if (current == null || stopped) {
            return;
        }
        CheckResult result = CheckResult.of(timeout ? CheckStatus.L4TOUT : CheckStatus.L4CON, 0, 0,
                errorLimit + " session errors, last: " + detail);
        current.execute(() -> {
            if (stopped) {
                return;
            }
            count(result);
            if (nextCheck != null && !nextCheck.isDone()
                    && nextCheck.getDelay(TimeUnit.NANOSECONDS) > schedule.fastInterval().toNanos()) {
                nextCheck.cancel(false);
                scheduleCheck(schedule.fastInterval().toNanos());
            }
        });
    }

    /** A session connected to the server: the count of consecutive errors starts again. Any thread. */
    public void observeSuccess() {
        if (trafficErrors.get() != 0) {
            trafficErrors.set(0);
        }
    }

    /**
     * Turns the checks on or off at run time (HAProxy's {@code enable|disable health}): while off no
     * check runs and the state stays as it is (a forced state included). Any thread.
     */
    public void setEnabled(boolean on) {
        enabled = on;
    }

    /** Whether the checks run (see {@link #setEnabled}). */
    public boolean enabled() {
        return enabled;
    }

    /**
     * Forces the state (HAProxy's {@code set server B/S health up|down}): the health counter goes to
     * full or to zero, so the next checks start from there, and a change is applied and logged as
     * HAProxy logs it ({@code "changed from CLI"}). Any thread; done on the check's event loop.
     */
    public void force(boolean nowUp) {
        EventLoop current = loop;
        if (current == null) {
            throw new IllegalStateException("server " + backend + "/" + server + " is not started");
        }
        current.execute(() -> {
            health = nowUp ? fullHealth : 0;
            if (up != nowUp) {
                up = nowUp;
                ServerCounts counts = listener.stateChanged(this, nowUp,
                        CheckResult.of(nowUp ? CheckStatus.L4OK : CheckStatus.L4CON, 0, 0, "changed from CLI"));
                log(nowUp ? Level.INFO : Level.WARNING, TransitionLine.forced(backend, server, nowUp, counts));
            }
        });
    }

    /** Whether the server is up. */
    public boolean isUp() {
        return up;
    }

    /** The last check's result; {@code null} before the first check ends. */
    public CheckResult lastResult() {
        return lastResult;
    }

    /**
     * How many check results have been counted so far. Read while a transition is logged (on the
     * event loop), it is the number of the result that caused it: tests count checks with it
     * instead of measuring time.
     */
    public long results() {
        return results;
    }

    /** The backend's name. */
    public String backend() {
        return backend;
    }

    /** The server's name. */
    public String server() {
        return server;
    }

    private void scheduleCheck(long delayNanos) {
        if (!stopped) {
            nextCheck = loop.schedule(this::runCheck, delayNanos, TimeUnit.NANOSECONDS);
        }
    }

    private void runCheck() {
        if (stopped) {
            return;
        }
        if (!enabled) {
            scheduleCheck(schedule.interval().toNanos());
            return;
        }
        Future<CheckResult> result;
        try {
            result = checker.run(loop, spec);
        } catch (RuntimeException e) {
            result = loop.newSucceededFuture(CheckResult.of(CheckStatus.SOCKERR, 0, 0, e.toString()));
        }
        result.addListener((Future<CheckResult> f) -> onResult(f.isSuccess() ? f.getNow()
                : CheckResult.of(CheckStatus.SOCKERR, 0, 0, String.valueOf(f.cause()))));
    }

    private void onResult(CheckResult result) {
        if (stopped || !enabled) {
            if (!stopped) {
                scheduleCheck(nextDelayNanos());
            }
            return;
        }
        try {
            lastResult = result;
            results++;
            count(result);
        } finally {
            scheduleCheck(nextDelayNanos());
        }
    }

    private void count(CheckResult result) {
        if (result.passed()) {
            if (health < fullHealth) {
                health++;
            }
            if (!up && health >= schedule.rise()) {
                health = fullHealth;
                transition(true, result);
            }
        } else if (health > schedule.rise()) {
            health--;
        } else {
            health = 0;
            if (up) {
                transition(false, result);
            }
        }
    }

    private void transition(boolean nowUp, CheckResult cause) {
        up = nowUp;
        ServerCounts counts = listener.stateChanged(this, nowUp, cause);
        log(nowUp ? Level.INFO : Level.WARNING, TransitionLine.format(backend, server, nowUp, cause, counts));
        if (!nowUp && counts.active() == 0 && counts.backup() == 0) {
            log(Level.SEVERE, TransitionLine.noServerAvailable(backend));
        }
    }

    private void log(Level level, String line) {
        LOG.log(level, line);
        listener.logged(line);
    }

    /** {@code srv_getinter()} plus HAProxy's {@code spread-checks} jitter. */
    long nextDelayNanos() {
        long interval;
        if (health == fullHealth) {
            interval = schedule.interval().toNanos();
        } else if (!up && health == 0) {
            interval = schedule.downInterval().toNanos();
        } else {
            interval = schedule.fastInterval().toNanos();
        }
        long spread = interval * schedule.spreadPercent() / 100;
        if (spread > 0) {
            interval += spread / 2 - ThreadLocalRandom.current().nextLong(spread + 1);
        }
        return interval;
    }
}
