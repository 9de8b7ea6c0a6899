package io.mailproxy.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.log.LogCapture;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** sd_notify's wire format, to a socket path and an abstract socket, and what happens without one. */
class ServiceNotifierTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    @Test
    void readyAndStoppingAreOneDatagramEachToThePath() throws Exception {
        try (NotifySocket systemd = NotifySocket.at(dir.resolve("notify"))) {
            ServiceNotifier notifier = ServiceNotifier.of(systemd.name());
            assertTrue(notifier.enabled());
            assertTrue(notifier.ready("3 listeners"));
            assertEquals("READY=1\nSTATUS=3 listeners", systemd.next(WAIT));
            assertTrue(notifier.stopping("stopping:\n2 sessions open"));
            assertEquals("STOPPING=1\nSTATUS=stopping: 2 sessions open", systemd.next(WAIT),
                    "a status is kept on one line: a newline would start a new assignment");
        }
    }

    @Test
    void anAtSignNamesAnAbstractSocket() throws Exception {
        String name = "mailproxy-notify-test-" + ThreadLocalRandom.current().nextLong(Long.MAX_VALUE);
        try (NotifySocket systemd = NotifySocket.abstractNamed(name)) {
            assertTrue(ServiceNotifier.of("@" + name).ready("up"));
            assertEquals("READY=1\nSTATUS=up", systemd.next(WAIT));
        }
    }

    @Test
    void withoutNotifySocketNothingIsSent() throws Exception {
        try (NotifySocket systemd = NotifySocket.at(dir.resolve("notify"))) {
            assertFalse(ServiceNotifier.of(null).enabled());
            assertFalse(ServiceNotifier.of(null).ready("up"));
            assertFalse(ServiceNotifier.of("").ready("up"));
            // Negative control: the same socket does receive from a notifier that names it.
            assertNull(systemd.next(Duration.ofMillis(200)));
            assertTrue(ServiceNotifier.of(systemd.name()).ready("up"));
            assertEquals("READY=1\nSTATUS=up", systemd.next(WAIT));
        }
    }

    @Test
    void aSocketThatIsNotThereIsAWarningNotAFailure() {
        try (LogCapture log = LogCapture.attach(ServiceNotifier.class.getName())) {
            Path missing = dir.resolve("no-such-socket");
            assertFalse(ServiceNotifier.of(missing.toString()).ready("up"));
            log.await(l -> l.equals("cannot tell the service manager READY=1 through " + missing + ": no such socket"), WAIT);
        }
    }

    @Test
    void aRelativeNameIsReportedAndIgnored() {
        try (LogCapture log = LogCapture.attach(ServiceNotifier.class.getName())) {
            ServiceNotifier notifier = ServiceNotifier.of("run/notify");
            assertFalse(notifier.enabled());
            assertFalse(notifier.ready("up"));
            log.await(l -> l.equals("NOTIFY_SOCKET=run/notify is neither an absolute path nor an abstract socket (@name):"
                    + " the service manager will not hear from mailproxy"), WAIT);
        }
    }
}
