package io.mailproxy.dovecot;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A real Dovecot instance on loopback, 2.3 or 2.4, run as a local process or in a container
 * ({@link DovecotTarget}); the same calls and the same files either way.
 *
 * <p>Every protocol has a plain listener and a {@code haproxy = yes} listener, all on free ports of
 * {@link DovecotOptions#listenAddress()} unless fixed. Any user name logs in with the configured
 * password (static passdb); mail is stored as maildir under {@link #home(String)}
 * ({@code <base>/home/<user without domain>}), so LMTP to {@code carol@example.com} is read over IMAP
 * as {@code carol}. The configuration, the sockets and the mail live in {@link #baseDir()}, on this
 * machine for both runtimes (a container mounts it at the same path).
 *
 * <pre>{@code
 * try (Dovecot dc = Dovecot.start("dc1")) {
 *     int port = dc.ports().imapHaproxy();
 *     ...
 *     String line = dc.awaitLog(dc.version().login("imap", "alice"), Duration.ofSeconds(10));
 * }
 * }</pre>
 *
 * <p>{@link #start} returns once every listener has answered with its greeting. Those readiness
 * probes connect from 127.0.0.254 (when listening on IPv4 loopback), and on
 * a haproxy listener send a v2 LOCAL header, so each leaves one user-less session with
 * {@code rip=127.0.0.254} in the log: never mistaken for a client (tests use 127.0.0.2 and up) or a
 * proxy's health check (127.0.0.1). Login processes are started ahead ({@code process_min_avail}),
 * so the first client does not wait for one.
 *
 * <p>Instances are independent and may be started in parallel. Instances still running when the JVM
 * exits normally are closed by a shutdown hook; a JVM killed with SIGKILL leaves processes and
 * containers running (containers carry the label {@code io.mailproxy.dovecot-harness}).
 */
public interface Dovecot extends AutoCloseable {

    /**
     * Starts an instance as {@code options} say and returns once every listener answers.
     *
     * @throws DovecotException when the target is not available here (the message says what to
     *         install or start), or Dovecot does not come up within {@link DovecotOptions#startTimeout()}
     *         (the message carries the end of its log)
     */
    static Dovecot start(DovecotOptions options) {
        return switch (options.target().runtime()) {
            case PROCESS -> ProcessDovecot.start(options);
            case CONTAINER -> ContainerDovecot.start(options);
        };
    }

    /** Starts an instance of the current target ({@link DovecotTarget#current()}) with default options. */
    static Dovecot start(String name) {
        return start(DovecotOptions.builder().name(name).build());
    }

    /** Null when {@code target} can run here, otherwise what is missing and the command that fixes it. */
    static String unavailableReason(DovecotTarget target) {
        return switch (target.runtime()) {
            case PROCESS -> ProcessDovecot.unavailableReason(target.version());
            case CONTAINER -> ContainerDovecot.unavailableReason();
        };
    }

    /**
     * Reads a configuration file with the target's own {@code doveconf -n} (on this machine, in the
     * root file system, or in a container of the image) and returns what it printed: the settings
     * that differ from the defaults. For checking sample configurations against the real release.
     * The file's directory is visible to doveconf at its own path; {@code !include} of the
     * environment's {@code /etc/dovecot/dovecot.conf} reads that Dovecot's packaged configuration.
     *
     * @throws DovecotException when doveconf refuses the file (the message is doveconf's)
     */
    static String doveconf(DovecotTarget target, Path file) {
        String reason = unavailableReason(target);
        if (reason != null) {
            throw new DovecotException(reason);
        }
        Path config = file.toAbsolutePath();
        List<String> command = switch (target.runtime()) {
            case PROCESS -> DovecotBinary.require(target.version()).doveconf(config);
            case CONTAINER -> List.of("docker", "run", "--rm", "--network", "none", "-v",
                    config.getParent() + ":" + config.getParent() + ":ro", DovecotImages.image(target.version()),
                    "doveconf", "-n", "-c", config.toString());
        };
        Commands.Result r = Commands.exec(command, Commands.SHORT, null);
        if (!r.ok()) {
            throw new DovecotException("doveconf of Dovecot " + target + " refuses " + file + ":\n" + r.output());
        }
        return r.output();
    }

    /** Which Dovecot this is and how it runs. */
    DovecotTarget target();

    /** The release line, which knows this instance's log lines ({@link DovecotVersion#login} and others). */
    default DovecotVersion version() {
        return target().version();
    }

    /** Dovecot's own version string, e.g. {@code 2.3.19.1 (9b53102964)} or {@code 2.4.1-4 (7d8c0e5759)}. */
    String versionString();

    String name();

    DovecotOptions options();

    /** The ports actually in use (free ports resolved); the same after {@link #restart()}. */
    DovecotPorts ports();

    default String listenAddress() {
        return options().listenAddress();
    }

    Path baseDir();

    Path configFile();

    /** The home directory of a user ({@code carol} and {@code carol@example.com} share one). */
    default Path home(String user) {
        int at = user.indexOf('@');
        return baseDir().resolve("home").resolve(at < 0 ? user : user.substring(0, at));
    }

    /** The maildir of a user's INBOX: {@code <home>/Maildir}. */
    default Path mailbox(String user) {
        return home(user).resolve("Maildir");
    }

    boolean isRunning();

    /**
     * Stops Dovecot politely (SIGTERM: the master ends its services and logs "Killed with signal
     * 15") and waits until it and all its processes have exited. Idempotent.
     */
    void stop();

    /**
     * Kills the master and every Dovecot process at once with SIGKILL, as a crash or {@code kill -9}
     * would: open connections are closed by the kernel, with no goodbye from Dovecot.
     */
    void kill();

    /**
     * Stops Dovecot if it runs, then starts it again with the same configuration, ports and mail,
     * and returns once every listener answers. The log goes on: lines from before stay.
     */
    void restart();

    /**
     * Ends Dovecot at once ({@link #kill()}: at the end nothing needs the polite shutdown, which
     * takes Dovecot seconds) and deletes the base directory if the harness created it.
     */
    @Override
    void close();

    /** Every complete line of the log so far, from the first start on (across restarts). */
    List<String> logLines();

    /** How many log lines contain a match of the pattern ({@link java.util.regex.Matcher#find()}). */
    default long countLog(Pattern pattern) {
        return logLines().stream().filter(l -> pattern.matcher(l).find()).count();
    }

    /**
     * Waits until a line contains a match and returns the first such line.
     *
     * @throws DovecotException on timeout, with the last lines of the log
     */
    String awaitLog(Pattern pattern, Duration timeout);

    /**
     * Waits until at least {@code atLeast} lines contain a match; returns the count then. Take a
     * {@link #countLog} before an action and await one more after it.
     *
     * @throws DovecotException on timeout, with the last lines of the log
     */
    long awaitLogCount(Pattern pattern, long atLeast, Duration timeout);

    /** The last lines of the log, for assertion messages. */
    default String logTail(int lines) {
        List<String> all = logLines();
        List<String> last = all.subList(Math.max(0, all.size() - lines), all.size());
        return last.isEmpty() ? "(the log of " + name() + " is empty)" : String.join("\n", last);
    }
}
