package io.mailproxy.dovecot;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Dovecot as a child process of this JVM ({@code dovecot -F -c <base>/dovecot.conf}): the host's
 * binary, or the release's Debian binary run with chroot ({@link DovecotBinary}). It logs to
 * {@code <base>/dovecot.log}; what the master prints before that file exists (configuration errors)
 * goes to {@code <base>/dovecot.out}.
 *
 * <p>As root, Dovecot's services run as Dovecot's own users and mail belongs to {@code nobody};
 * otherwise (2.3 on the host only) every service runs as the current user, without chroot.
 */
final class ProcessDovecot extends AbstractDovecot {

    static final String LOG_FILE = "dovecot.log";
    static final String OUTPUT_FILE = "dovecot.out";

    private final DovecotBinary binary;
    private final ProcessUser runAs;
    private final ProcessUser mail;
    private final DovecotLog.FileLog log;
    private Process process;

    private ProcessDovecot(Placement at, DovecotBinary binary, ProcessUser runAs, ProcessUser mail) {
        super(at.options(), at.ports(), at.baseDir(), at.ownsBaseDir());
        this.binary = binary;
        this.runAs = runAs;
        this.mail = mail;
        this.log = DovecotLog.file(at.baseDir().resolve(LOG_FILE));
    }

    static Dovecot start(DovecotOptions options) {
        DovecotBinary binary = DovecotBinary.require(options.target().version());
        ProcessUser runAs = binary.rootfs() != null ? ProcessUser.ROOT : ProcessUser.current();
        ProcessUser mail;
        if (binary.rootfs() != null) {
            mail = ProcessUser.NOBODY;
        } else if (runAs.isRoot()) {
            mail = ProcessUser.named(ProcessUser.NOBODY.name());
        } else if (binary.version() == DovecotVersion.V2_3) {
            mail = runAs;
        } else {
            throw new DovecotException("Dovecot " + binary.versionString() + " as a local process needs root here:"
                    + " the harness writes non-root settings (services without chroot) for 2.3 only");
        }
        return AbstractDovecot.start(options, mail, at -> new ProcessDovecot(at, binary, runAs, mail));
    }

    static String unavailableReason(DovecotVersion version) {
        try {
            return DovecotBinary.unavailableReason(version);
        } catch (DovecotException e) {
            return e.getMessage();
        }
    }

    @Override
    DovecotConfig config() {
        return new DovecotConfig(options(), ports(), baseDir(), log.file().toString(), runAs, mail,
                certificateIfNeeded());
    }

    @Override
    void launch() {
        try {
            process = new ProcessBuilder(binary.command(configFile(), baseDir()))
                    .directory(baseDir().toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(baseDir().resolve(OUTPUT_FILE).toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
        } catch (IOException e) {
            throw new DovecotException("cannot run " + binary.describe() + ": " + e.getMessage(), e);
        }
    }

    @Override
    boolean masterAlive() {
        return process != null && process.isAlive();
    }

    @Override
    public boolean isRunning() {
        return masterAlive();
    }

    @Override
    public String versionString() {
        return binary.versionString();
    }

    @Override
    void terminate(boolean kill) {
        if (process == null) {
            return;
        }
        List<ProcessHandle> children = process.descendants().toList();
        if (kill) {
            // All at once, as a crash: no process is left to close a connection politely.
            process.destroyForcibly();
            children.forEach(ProcessHandle::destroyForcibly);
        } else if (process.isAlive()) {
            // SIGTERM: the master stops its services and exits; doveadm would need the same rights.
            process.destroy();
        }
        try {
            if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        // Services run as other users may outlive the master by a moment; never leave one behind.
        long deadline = System.nanoTime() + STOP_TIMEOUT.toNanos();
        for (ProcessHandle child : children) {
            // Polled, not onExit(): a grandchild's onExit() is polled with a back-off of up to a second.
            while (!ended(child) && System.nanoTime() - deadline < 0) {
                pause(Duration.ofMillis(20));
            }
            child.destroyForcibly();
        }
    }

    /**
     * Whether a process has exited. A killed grandchild stays a zombie until this machine's init
     * reaps it, which can take a second or two; its sockets are closed already, so it counts as ended.
     */
    private static boolean ended(ProcessHandle process) {
        if (!process.isAlive()) {
            return true;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
            // pid (comm) state ...: the state letter follows the last ')', as comm may hold one.
            return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (IOException | RuntimeException e) {
            return !process.isAlive();
        }
    }

    @Override
    DovecotLog log() {
        return log;
    }

    @Override
    void clearLog() {
        try {
            Files.deleteIfExists(log.file());
            Files.deleteIfExists(baseDir().resolve(OUTPUT_FILE));
        } catch (IOException e) {
            throw new DovecotException("cannot delete " + log.file() + ": " + e.getMessage(), e);
        }
    }

    @Override
    String masterOutput() {
        try {
            return Files.readString(baseDir().resolve(OUTPUT_FILE), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
