package io.mailproxy.demo;

import io.mailproxy.MailProxy;
import io.mailproxy.config.ConfigLoader;
import io.mailproxy.config.ConfigurationException;
import io.mailproxy.dovecot.Dovecot;
import io.mailproxy.dovecot.DovecotOptions;
import io.mailproxy.dovecot.DovecotTarget;
import io.mailproxy.dovecot.DovecotVersion;
import io.mailproxy.log.LogSetup;
import io.mailproxy.tls.SelfSignedCertificates;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;

/**
 * {@code bin/mailproxy demo}: two Dovecot backends on loopback behind mailproxy with
 * {@code etc/demo.conf}, to try by hand. By default Debian 12's Dovecot 2.3 as local processes (no
 * Docker needed); {@code --dovecot 2.4} runs Debian 13's Dovecot 2.4 in containers where a Docker
 * engine answers. Ctrl-C stops everything and removes the temporary files.
 *
 * <p>A program of its own, outside the product's jar: it starts Dovecot, which mailproxy never does.
 */
public final class Demo {

    /** The packages the demo installs when Dovecot is missing and it runs as root. */
    static final List<String> PACKAGES = List.of("dovecot-core", "dovecot-imapd", "dovecot-pop3d", "dovecot-lmtpd");
    static final String USAGE = "usage: bin/mailproxy demo [--dovecot 2.3|2.4|<version>-process|<version>-container]";

    private Demo() {
    }

    /** Runs until SIGTERM or Ctrl-C; exits 1 (2 for a bad config or usage) when it cannot start. */
    public static void main(String[] args) {
        LogSetup.keepLoggingThroughShutdown();
        LogSetup.install(System.out);
        int code = run(List.of(args), System.out, System.err);
        if (code != 0) {
            System.exit(code);
        }
    }

    /** {@code args}: what follows {@code demo} on the command line (a leading {@code demo} is skipped). */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        DovecotTarget target = target(args.isEmpty() || !args.get(0).equals("demo") ? args : args.subList(1, args.size()));
        if (target == null) {
            err.println(USAGE);
            return 2;
        }
        Path home = Path.of(System.getProperty("mailproxy.home", "."));
        Path config = home.resolve("etc/demo.conf");
        if (!Files.isRegularFile(config)) {
            err.println("demo: " + config + " not found; run the demo from the repository with bin/mailproxy demo");
            return 1;
        }
        String unavailable = Dovecot.unavailableReason(target);
        if (unavailable != null && target.runtime() == DovecotTarget.Runtime.CONTAINER) {
            err.println("demo: Dovecot " + target.version().label() + " runs in containers here, and it cannot: "
                    + unavailable);
            err.println("demo: without Docker, run the default demo (Dovecot 2.3 as local processes): bin/mailproxy demo");
            return 1;
        }
        if (unavailable != null && !target.equals(DovecotTarget.DEFAULT)) {
            err.println("demo: Dovecot " + target + " cannot run here: " + unavailable);
            return 1;
        }
        // The default demo installs Debian's Dovecot 2.3 when it is missing.
        if (unavailable != null && !install(unavailable, out, err)) {
            return 1;
        }
        if (target.runtime() == DovecotTarget.Runtime.CONTAINER || target.version() != DovecotVersion.V2_3) {
            out.println("demo: starting Dovecot " + target + " (the first run builds it from Debian "
                    + target.version().debianSuite() + "'s packages, about a minute)");
        }
        List<AutoCloseable> running = new ArrayList<>();
        Path dir = null;
        String version;
        try {
            dir = Files.createTempDirectory("mailproxy-demo-");
            SelfSignedCertificates.selfSigned(dir, "localhost", "127.0.0.1");
            Dovecot dc1 = Dovecot.start(DovecotOptions.builder().target(target).name("dc1").echoLog(false)
                    .imapHaproxyPort(10143).pop3HaproxyPort(10110).lmtpHaproxyPort(10024).build());
            running.add(dc1);
            running.add(Dovecot.start(DovecotOptions.builder().target(target).name("dc2").echoLog(false)
                    .imapHaproxyPort(11143).pop3HaproxyPort(11110).lmtpHaproxyPort(11024).build()));
            version = dc1.versionString();
            MailProxy proxy = MailProxy.start(ConfigLoader.load(config, Map.of("MAILPROXY_DEMO_DIR", dir.toString())));
            running.add(0, proxy);
        } catch (ConfigurationException e) {
            err.println(e.getMessage());
            stop(running, dir);
            return 2;
        } catch (IOException | RuntimeException e) {
            err.println("demo: " + e.getMessage());
            stop(running, dir);
            return 1;
        }
        Path tempDir = dir;
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            out.println("demo: stopping mailproxy and both Dovecot instances");
            stop(running, tempDir);
            stopped.countDown();
        }, "demo-shutdown"));
        out.print(instructions(version));
        out.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /**
     * The Dovecot a command line asks for; null for a usage error. {@code 2.3} is Debian 12's as
     * local processes (the default), {@code 2.4} Debian 13's in containers; a full target such as
     * {@code 2.4-process} chooses the runtime too.
     */
    static DovecotTarget target(List<String> args) {
        if (args.isEmpty()) {
            return DovecotTarget.DEFAULT;
        }
        String release = null;
        if (args.size() == 2 && args.get(0).equals("--dovecot")) {
            release = args.get(1);
        } else if (args.size() == 1 && args.get(0).startsWith("--dovecot=")) {
            release = args.get(0).substring("--dovecot=".length());
        }
        if ("2.3".equals(release)) {
            return DovecotTarget.DEFAULT;
        }
        if ("2.4".equals(release)) {
            return new DovecotTarget(DovecotVersion.V2_4, DovecotTarget.Runtime.CONTAINER);
        }
        try {
            return release == null ? null : DovecotTarget.parse(release);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    static String instructions(String dovecotVersion) {
        return """

                mailproxy demo is running: two Dovecot %s backends (dc1, dc2) behind mailproxy on 127.0.0.1.
                Any user name works; the password is always "demo". The greeting names the backend.

                  IMAPS  openssl s_client -quiet -connect 127.0.0.1:9993
                         a LOGIN demo demo
                         a SELECT INBOX
                         a LOGOUT
                  POP3S  openssl s_client -quiet -connect 127.0.0.1:9995
                         USER demo
                         PASS demo
                         STAT
                         QUIT
                  LMTP   swaks --server 127.0.0.1:9024 --protocol LMTP --tls-on-connect --to demo@example.com
                         (or openssl s_client -quiet -connect 127.0.0.1:9024, then LHLO, MAIL FROM, RCPT TO, DATA)

                Each session logs one line below when it ends. Ctrl-C stops everything and removes the temporary files.

                """.formatted(dovecotVersion);
    }

    private static boolean install(String unavailable, PrintStream out, PrintStream err) {
        String command = "apt-get install -y " + String.join(" ", PACKAGES);
        if (!"root".equals(System.getProperty("user.name"))) {
            err.println("demo: " + unavailable);
            err.println("demo: as root, run: apt-get update && " + command);
            return false;
        }
        out.println("demo: Dovecot is not installed; installing it: apt-get update && " + command);
        try {
            if (exec(List.of("apt-get", "update", "-qq")) != 0) {
                err.println("demo: apt-get update failed; run it by hand: apt-get update && " + command);
                return false;
            }
            List<String> install = new ArrayList<>(List.of("apt-get", "install", "-y", "-qq"));
            install.addAll(PACKAGES);
            if (exec(install) != 0) {
                err.println("demo: the installation failed; run it by hand: " + command);
                return false;
            }
        } catch (IOException e) {
            err.println("demo: cannot run apt-get (" + e.getMessage() + "); run by hand: " + command);
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        String still = Dovecot.unavailableReason(DovecotTarget.DEFAULT);
        if (still != null) {
            err.println("demo: " + still);
            return false;
        }
        return true;
    }

    private static int exec(List<String> command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).inheritIO();
        pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
        return pb.start().waitFor();
    }

    private static void stop(List<AutoCloseable> running, Path dir) {
        for (AutoCloseable c : running) {
            try {
                c.close();
            } catch (Exception e) {
                // Best effort while stopping: the next one must still be stopped.
            }
        }
        if (dir != null) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> {
                    try {
                        Files.deleteIfExists(p);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            } catch (IOException | UncheckedIOException e) {
                // Left in the temp dir; nothing else depends on it.
            }
        }
    }
}
