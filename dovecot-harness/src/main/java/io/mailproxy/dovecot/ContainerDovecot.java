package io.mailproxy.dovecot;

import com.github.dockerjava.api.DockerClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.ContainerLaunchException;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.output.OutputFrame;
import org.testcontainers.containers.wait.strategy.AbstractWaitStrategy;
import org.testcontainers.utility.DockerImageName;

/**
 * Dovecot in a Testcontainers {@link GenericContainer} of an image built from Debian's packages
 * ({@link DovecotImages}), on the host's network, listening on loopback only.
 *
 * <p>The base directory is mounted at the same path, so configuration, sockets and mail are where a
 * local process would have them. Dovecot logs to stderr ({@code log_path = /dev/stderr}); the lines
 * stream into this instance's log and to this JVM's standard output, prefixed with the instance's
 * name. The container counts as started when Dovecot logs {@code starting up for} (its listeners
 * are bound then; {@link LogLineWait}), and the instance when every listener has answered a probe.
 *
 * <p>Testcontainers needs, on machines without an image registry and where it believes it runs in
 * a container: {@code TESTCONTAINERS_RYUK_DISABLED=true} (the reaper image cannot be pulled; a
 * shutdown hook and the label {@value #LABEL} stand in), {@code TESTCONTAINERS_CHECKS_DISABLE=true}
 * (its checks pull {@code alpine}), {@code TESTCONTAINERS_HOST_OVERRIDE=localhost} (else it would
 * address the engine's bridge gateway). Testcontainers reads these from the environment only, so
 * the build and {@code bin/mailproxy} set them; without them the harness refuses to start.
 */
final class ContainerDovecot extends AbstractDovecot {

    /** Every container of the harness carries this label, with the instance's name as value. */
    static final String LABEL = "io.mailproxy.dovecot-harness";
    /** Dovecot's master logs this once every listener is bound (2.3 and 2.4). */
    static final Pattern STARTED = Pattern.compile("master: Info: Dovecot v\\S+ .*starting up for ");
    static final Map<String, String> REQUIRED_ENVIRONMENT = Map.of(
            "TESTCONTAINERS_RYUK_DISABLED", "true",
            "TESTCONTAINERS_CHECKS_DISABLE", "true",
            "TESTCONTAINERS_HOST_OVERRIDE", "localhost");
    private static final Pattern VERSION = Pattern.compile("Dovecot v(\\S+ \\(\\w+\\)) starting up");

    private final String image;
    private final DovecotLog.StreamLog log;
    private GenericContainer<?> container;
    private volatile boolean failedToStart;
    private CountDownLatch outputEnded = new CountDownLatch(0);
    private volatile String versionString = "";

    private ContainerDovecot(Placement at, String image) {
        super(at.options(), at.ports(), at.baseDir(), at.ownsBaseDir());
        this.image = image;
        this.log = DovecotLog.stream("the output of container " + at.options().name() + " (" + image + ")",
                at.options().echoLog() ? System.out : null, "[dovecot " + at.options().name() + "] ");
    }

    static Dovecot start(DovecotOptions options) {
        String reason = unavailableReason();
        if (reason != null) {
            throw new DovecotException(reason);
        }
        String image = DovecotImages.image(options.target().version());
        return AbstractDovecot.start(options, ProcessUser.NOBODY, at -> new ContainerDovecot(at, image));
    }

    /** Null when containers can run here: the environment Testcontainers needs is set and a Docker engine answers. */
    static String unavailableReason() {
        List<String> missing = new ArrayList<>();
        REQUIRED_ENVIRONMENT.forEach((name, value) -> {
            if (!value.equals(System.getenv(name))) {
                missing.add(name + "=" + value);
            }
        });
        if (!missing.isEmpty()) {
            return "Dovecot in a container needs this environment for Testcontainers (no registry here): "
                    + String.join(" ", missing.stream().sorted().toList());
        }
        return DockerEngine.unavailableReason();
    }

    @Override
    DovecotConfig config() {
        return new DovecotConfig(options(), ports(), baseDir(), "/dev/stderr", ProcessUser.ROOT, ProcessUser.NOBODY,
                certificateIfNeeded());
    }

    @Override
    void launch() {
        CountDownLatch ended = new CountDownLatch(1);
        outputEnded = ended;
        GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(image))
                .withNetworkMode("host")
                .withFileSystemBind(baseDir().toString(), baseDir().toString(), BindMode.READ_WRITE)
                .withCommand("/usr/sbin/dovecot", "-F", "-c", configFile().toString())
                .withLabel(LABEL, name())
                .withLogConsumer(frame -> onOutput(frame, ended))
                .waitingFor(new LogLineWait(log).withStartupTimeout(options().startTimeout()));
        container = c;
        failedToStart = false;
        try {
            c.start();
        } catch (RuntimeException e) {
            // The master exited (a taken port, a bad setting) or never logged its start: the
            // readiness check (masterAlive() false) reports why, from the log.
            failedToStart = true;
            if (log.lines().isEmpty()) {
                throw new DovecotException("cannot start a container of " + image + ": " + e.getMessage(), e);
            }
            return;
        }
        Matcher m = VERSION.matcher(String.join("\n", log.lines()));
        if (m.find()) {
            versionString = m.group(1);
        }
    }

    private void onOutput(OutputFrame frame, CountDownLatch ended) {
        if (frame.getType() == OutputFrame.OutputType.END) {
            ended.countDown();
            return;
        }
        for (String line : frame.getUtf8StringWithoutLineEnding().split("\n")) {
            log.add(line);
        }
    }

    @Override
    boolean masterAlive() {
        GenericContainer<?> c = container;
        return c != null && !failedToStart && c.getContainerId() != null && c.isRunning();
    }

    @Override
    public boolean isRunning() {
        return masterAlive();
    }

    @Override
    public String versionString() {
        return versionString;
    }

    @Override
    void terminate(boolean kill) {
        GenericContainer<?> c = container;
        if (c == null) {
            return;
        }
        container = null;
        String id = c.getContainerId();
        if (id != null && !failedToStart && c.isRunning()) {
            DockerClient docker = DockerClientFactory.instance().client();
            if (kill) {
                docker.killContainerCmd(id).withSignal("KILL").exec();
            } else {
                // docker stop: SIGTERM to the master (PID 1), SIGKILL only after the timeout.
                docker.stopContainerCmd(id).withTimeout((int) STOP_TIMEOUT.toSeconds()).exec();
            }
            // The master's last lines ("Killed with signal 15") are still on their way.
            awaitOutputEnd(STOP_TIMEOUT);
        }
        // Testcontainers' stop removes the container (it would SIGKILL one still running).
        c.stop();
    }

    private void awaitOutputEnd(Duration timeout) {
        try {
            outputEnded.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    DovecotLog log() {
        return log;
    }

    @Override
    void clearLog() {
        log.clear();
    }

    /**
     * Testcontainers' wait for Dovecot's own start-up line, read from this instance's log: it also
     * gives up at once when the container exits (Testcontainers' log wait would sit out its timeout).
     */
    private static final class LogLineWait extends AbstractWaitStrategy {
        private final DovecotLog log;

        LogLineWait(DovecotLog log) {
            this.log = log;
        }

        @Override
        protected void waitUntilReady() {
            long deadline = System.nanoTime() + startupTimeout.toNanos();
            while (log.lines().stream().noneMatch(l -> STARTED.matcher(l).find())) {
                if (!waitStrategyTarget.isRunning()) {
                    throw new ContainerLaunchException("Dovecot exited before it started up:\n" + log.tail(10));
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new ContainerLaunchException("Dovecot did not log its start within " + startupTimeout.toSeconds()
                            + " s:\n" + log.tail(10));
                }
                pause(Duration.ofMillis(50));
            }
        }
    }
}
