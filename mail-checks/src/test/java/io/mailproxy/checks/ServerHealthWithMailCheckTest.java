package io.mailproxy.checks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The state machine driving real checks against a scripted server, with the exact lines. */
class ServerHealthWithMailCheckTest extends CheckTestSupport {

    private record Transition(boolean up, CheckResult cause, String line) {
    }

    @Test
    void byeTakesTheServerDownAndAGoodGreetingBringsItBack() throws Exception {
        AtomicInteger connection = new AtomicInteger();
        BlockingQueue<Transition> transitions = new LinkedBlockingQueue<>();
        try (FakeServer server = FakeServer.start(c -> {
            if (connection.incrementAndGet() == 1) {
                c.send("* BYE Server shutting down.\r\n");
            } else {
                ImapCheckTest.goodImap(c);
            }
        })) {
            TransitionListener listener = new TransitionListener() {
                private boolean up;
                private CheckResult cause;

                @Override
                public ServerCounts stateChanged(ServerHealth health, boolean nowUp, CheckResult why) {
                    up = nowUp;
                    cause = why;
                    return nowUp ? new ServerCounts(2, 0) : new ServerCounts(1, 0);
                }

                @Override
                public void logged(String line) {
                    transitions.add(new Transition(up, cause, line));
                }
            };
            CheckSchedule schedule = new CheckSchedule(Duration.ofMillis(50), Duration.ofMillis(20),
                    Duration.ofMillis(30), 2, 1, true, 0);
            ServerHealth health = new ServerHealth("imap-pool", "dc1", spec(CheckType.IMAP, server.address()),
                    schedule, checker, listener);
            health.start(group.next());

            Transition down = transitions.poll(5, TimeUnit.SECONDS);
            assertNotNull(down);
            assertFalse(down.up());
            assertEquals("Server imap-pool/dc1 is DOWN, reason: Layer7 wrong status, code: 0, "
                    + "info: \"* BYE Server shutting down.\", check duration: " + down.cause().durationMillis()
                    + "ms. 1 active and 0 backup servers left.", down.line());

            Transition up = transitions.poll(5, TimeUnit.SECONDS);
            assertNotNull(up);
            assertTrue(up.up());
            assertEquals("Server imap-pool/dc1 is UP, reason: Layer7 check passed, code: 0, check duration: "
                    + up.cause().durationMillis() + "ms. 2 active and 0 backup servers online.", up.line());
            assertTrue(health.isUp());
            assertEquals(3, connection.get(), "one failure, then rise 2");
            health.stop();
        }
    }
}
