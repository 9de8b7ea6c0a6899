package io.mailproxy.checks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The state machine on an {@link EmbeddedChannel}'s event loop with frozen time: checks are scripted,
 * time only moves when the test moves it, so counts and intervals are exact.
 */
class ServerHealthTest {

    private static final CheckSpec SPEC = CheckSpec.of(CheckType.IMAP,
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 143));
    private static final CheckResult OK = CheckResult.of(CheckStatus.L7OK, 0, 3, "");
    private static final CheckResult BYE = CheckResult.of(CheckStatus.L7STS, 0, 2, "* BYE shutting down");
    private static final CheckResult TIMEOUT = CheckResult.of(CheckStatus.L7TOUT, 0, 5001, "");
    private static final long MAX_WAIT_MILLIS = 100_000;

    private EmbeddedChannel channel;
    private EventLoop loop;
    private final Deque<CheckResult> script = new ArrayDeque<>();
    private final List<String> lines = new ArrayList<>();
    private int checks;
    private int activeAfterDown = 1;

    private final Checker checker = (eventLoop, spec) -> {
        checks++;
        CheckResult next = script.poll();
        if (next == null) {
            throw new AssertionError("no scripted result left for check " + checks);
        }
        return eventLoop.newSucceededFuture(next);
    };

    private final TransitionListener listener = new TransitionListener() {
        @Override
        public ServerCounts stateChanged(ServerHealth server, boolean up, CheckResult cause) {
            return up ? new ServerCounts(2, 0) : new ServerCounts(activeAfterDown, 0);
        }

        @Override
        public void logged(String line) {
            lines.add(line);
        }
    };

    @BeforeEach
    void freezeTime() {
        channel = new EmbeddedChannel();
        channel.freezeTime();
        loop = channel.eventLoop();
    }

    @AfterEach
    void finish() {
        assertFalse(channel.finishAndReleaseAll());
    }

    private ServerHealth started(CheckSchedule schedule, CheckResult... results) {
        script.addAll(List.of(results));
        ServerHealth health = new ServerHealth("imap-pool", "dc1", SPEC, schedule, checker, listener);
        health.start(loop);
        channel.runPendingTasks();
        return health;
    }

    /** Moves time 1 ms at a time until the next check runs; returns how long that took. */
    private long untilNextCheck() {
        int before = checks;
        for (long waited = 1; waited <= MAX_WAIT_MILLIS; waited++) {
            channel.advanceTimeBy(1, TimeUnit.MILLISECONDS);
            channel.runPendingTasks();
            if (checks > before) {
                return waited;
            }
        }
        throw new AssertionError("no check within " + MAX_WAIT_MILLIS + "ms");
    }

    private static CheckSchedule schedule(int rise, int fall, boolean startUp) {
        return new CheckSchedule(Duration.ofMillis(1000), Duration.ofMillis(100), Duration.ofMillis(500),
                rise, fall, startUp, 0);
    }

    @Test
    void startsUpButFallsAtTheFirstFailureLikeHaproxy() {
        activeAfterDown = 0;
        ServerHealth health = started(schedule(2, 3, true), TIMEOUT);
        assertTrue(health.isUp());
        assertNull(health.lastResult());
        assertTrue(untilNextCheck() <= 1000, "first check within one interval");
        assertFalse(health.isUp());
        assertEquals(TIMEOUT, health.lastResult());
        assertEquals(List.of(
                "Server imap-pool/dc1 is DOWN, reason: Layer7 timeout, check duration: 5001ms. "
                        + "0 active and 0 backup servers left.",
                "backend imap-pool has no server available!"), lines);
    }

    @Test
    void startingDownNeedsRiseSuccesses() {
        ServerHealth health = started(schedule(2, 3, false), OK, OK);
        assertFalse(health.isUp());
        untilNextCheck();
        assertFalse(health.isUp(), "one success of two");
        assertEquals(List.of(), lines);
        untilNextCheck();
        assertTrue(health.isUp());
        assertEquals(List.of("Server imap-pool/dc1 is UP, reason: Layer7 check passed, code: 0, check duration: 3ms. "
                + "2 active and 0 backup servers online."), lines);
    }

    @Test
    void aFailureWhileRisingStartsTheCountAgain() {
        ServerHealth health = started(schedule(3, 3, false), OK, OK, BYE, OK, OK, OK);
        for (int i = 0; i < 5; i++) {
            untilNextCheck();
            assertFalse(health.isUp(), "after check " + checks);
        }
        untilNextCheck();
        assertTrue(health.isUp());
        assertEquals(1, lines.size());
    }

    @Test
    void fallFailuresTakeAFullyUpServerDown() {
        ServerHealth health = started(schedule(2, 3, false), OK, OK, BYE, BYE, BYE);
        untilNextCheck();
        untilNextCheck();
        assertTrue(health.isUp());
        untilNextCheck();
        untilNextCheck();
        assertTrue(health.isUp(), "two failures of three");
        untilNextCheck();
        assertFalse(health.isUp());
        assertEquals(List.of(
                "Server imap-pool/dc1 is UP, reason: Layer7 check passed, code: 0, check duration: 3ms. "
                        + "2 active and 0 backup servers online.",
                "Server imap-pool/dc1 is DOWN, reason: Layer7 wrong status, code: 0, info: \"* BYE shutting down\", "
                        + "check duration: 2ms. 1 active and 0 backup servers left."), lines);
    }

    /** HAProxy's health counter: a success amid failures gives back one failure, not all of them. */
    @Test
    void aSuccessAmidFailuresOnlyBuysOneMoreFailure() {
        ServerHealth health = started(schedule(2, 3, true), OK, OK, BYE, BYE, OK, BYE, BYE);
        untilNextCheck();
        untilNextCheck();
        for (int i = 0; i < 4; i++) {
            untilNextCheck();
            assertTrue(health.isUp(), "after check " + checks);
        }
        untilNextCheck();
        assertFalse(health.isUp());
    }

    @Test
    void intervalsFollowTheState() {
        started(schedule(2, 3, false), OK, OK, BYE, BYE, BYE, BYE, OK);
        untilNextCheck();                       // OK: rising (1 of 2)
        assertEquals(100, untilNextCheck());    // fast-interval while changing; OK: up, full health
        assertEquals(1000, untilNextCheck());   // interval while steadily up; BYE: falling
        assertEquals(100, untilNextCheck());    // fast-interval; BYE
        assertEquals(100, untilNextCheck());    // fast-interval; BYE: down
        assertEquals(500, untilNextCheck());    // down-interval while down; BYE
        assertEquals(500, untilNextCheck());    // down-interval; OK: rising
    }

    @Test
    void downIntervalAppliesFromTheStartWhenStartingDown() {
        started(schedule(2, 3, false), BYE, BYE);
        untilNextCheck();
        assertEquals(500, untilNextCheck());
        assertEquals(List.of(), lines, "no transition: it was down already");
    }

    @Test
    void stopEndsTheChecks() {
        ServerHealth health = started(schedule(1, 1, true), OK, OK);
        untilNextCheck();
        health.stop();
        channel.runPendingTasks();
        int before = checks;
        channel.advanceTimeBy(10, TimeUnit.SECONDS);
        channel.runPendingTasks();
        assertEquals(before, checks);
    }

    /** {@code set server B/S health down}: DOWN at once, logged as HAProxy does; the next check starts from zero. */
    @Test
    void aForcedStateIsAppliedAndLogged() {
        ServerHealth health = started(schedule(2, 3, true), OK);
        health.force(false);
        channel.runPendingTasks();
        assertFalse(health.isUp());
        assertEquals(List.of("Server imap-pool/dc1 is DOWN, changed from CLI. 1 active and 0 backup servers left."), lines);
        untilNextCheck();
        assertFalse(health.isUp(), "one pass of rise 2 after a forced DOWN");
        health.force(false);
        channel.runPendingTasks();
        assertEquals(1, lines.size(), "negative control: forcing the state it has logs nothing");
    }

    /** {@code disable health}: no check runs and the state stays; {@code enable health}: they run again. */
    @Test
    void disabledChecksDoNotRun() {
        ServerHealth health = started(schedule(1, 1, true), BYE);
        health.setEnabled(false);
        channel.advanceTimeBy(10, TimeUnit.SECONDS);
        channel.runPendingTasks();
        assertEquals(0, checks);
        assertTrue(health.isUp(), "the state stays as it was");
        health.setEnabled(true);
        untilNextCheck();
        assertFalse(health.isUp(), "negative control: enabled again, the BYE takes it down");
    }

    @Test
    void aCheckerThatThrowsIsASocketError() {
        Checker broken = (eventLoop, spec) -> {
            checks++;
            throw new IllegalStateException("boom");
        };
        ServerHealth health = new ServerHealth("imap-pool", "dc1", SPEC, schedule(2, 1, true), broken, listener);
        health.start(loop);
        channel.runPendingTasks();
        untilNextCheck();
        assertFalse(health.isUp());
        assertEquals(CheckStatus.SOCKERR, health.lastResult().status());
        assertEquals(500, untilNextCheck(), "keeps checking, at down-interval");
    }

    @Test
    void spreadMovesEachIntervalByAtMostHalfItsShare() {
        CheckSchedule spread = new CheckSchedule(Duration.ofMillis(1000), Duration.ofMillis(1000),
                Duration.ofMillis(1000), 2, 3, true, 50);
        ServerHealth health = new ServerHealth("b", "s", SPEC, spread, checker, listener);
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (int i = 0; i < 2000; i++) {
            long delay = TimeUnit.NANOSECONDS.toMillis(health.nextDelayNanos());
            min = Math.min(min, delay);
            max = Math.max(max, delay);
        }
        assertTrue(min >= 750 && min < 800, "min " + min);
        assertTrue(max <= 1250 && max > 1200, "max " + max);
    }

    @Test
    void transitionsGoToJavaUtilLoggingUnderTheClassName() {
        List<LogRecord> records = new ArrayList<>();
        Logger logger = Logger.getLogger(ServerHealth.class.getName());
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                records.add(record);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(capture);
        try {
            started(schedule(1, 1, true), BYE, OK);
            untilNextCheck();
            untilNextCheck();
        } finally {
            logger.removeHandler(capture);
        }
        assertEquals(2, records.size());
        assertEquals(Level.WARNING, records.get(0).getLevel());
        assertEquals(lines.get(0), records.get(0).getMessage());
        assertEquals(Level.INFO, records.get(1).getLevel());
        assertEquals(lines.get(1), records.get(1).getMessage());
    }
}
