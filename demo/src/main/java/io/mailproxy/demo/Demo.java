package io.mailproxy.demo;

import io.mailproxy.MailProxy;
import io.mailproxy.config.ConfigLoader;
import io.mailproxy.config.ConfigurationException;
import io.mailproxy.dovecot.Dovecot;
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
 * {@code mailproxy demo}: two Dovecot backends on loopback behind mailproxy with
 * {@code etc/demo.conf}, to try by hand. Ctrl-C stops everything and removes the temporary files.
 */
public final class Demo {

    /** The packages the demo installs when Dovecot is missing and it runs as root. */
    static final List<String> PACKAGES = List.of("dovecot-core", "dovecot-imapd", "dovecot-pop3d", "dovecot-lmtpd");

    private Demo() {
    }

    /** {@code bin/mailproxy demo}: runs until SIGTERM or Ctrl-C; exits 1 (2 for a bad config) when it cannot start. */
    public static void main(String[] args) {
        LogSetup.keepLoggingThroughShutdown();
        LogSetup.install(System.out);
        int code = run(System.out, System.err);
        if (code != 0) {
            System.exit(code);
        }
    }

    public static int run(PrintStream out, PrintStream err) {
        Path home = Path.of(System.getProperty("mailproxy.home", "."));
        Path config = home.resolve("etc/demo.conf");
        if (!Files.isRegularFile(config)) {
            err.println("demo: " + config + " not found; run the demo from the repository with bin/mailproxy demo");
            return 1;
        }
        if (!Dovecot.available() && !install(out, err)) {
            return 1;
        }
        List<AutoCloseable> running = new ArrayList<>();
        Path dir = null;
        try {
            dir = Files.createTempDirectory("mailproxy-demo-");
            SelfSignedCertificates.selfSigned(dir, "localhost", "127.0.0.1");
            running.add(Dovecot.start(Dovecot.Options.builder().name("dc1")
                    .imapHaproxyPort(10143).pop3HaproxyPort(10110).lmtpHaproxyPort(10024).build()));
            running.add(Dovecot.start(Dovecot.Options.builder().name("dc2")
                    .imapHaproxyPort(11143).pop3HaproxyPort(11110).lmtpHaproxyPort(11024).build()));
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
        out.print(instructions());
        out.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    static String instructions() {
        return """

                mailproxy demo is running: two Dovecot backends (dc1, dc2) behind mailproxy on 127.0.0.1.
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

                """;
    }

    private static boolean install(PrintStream out, PrintStream err) {
        String command = "apt-get install -y " + String.join(" ", PACKAGES);
        if (!"root".equals(System.getProperty("user.name"))) {
            err.println("demo: " + Dovecot.unavailableReason());
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
        if (!Dovecot.available()) {
            err.println("demo: " + Dovecot.unavailableReason());
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
