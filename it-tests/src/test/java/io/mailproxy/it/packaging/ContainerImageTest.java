package io.mailproxy.it.packaging;

import static io.mailproxy.it.packaging.Packaging.docker;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.dovecot.Dovecot;
import io.mailproxy.it.ExternalClient;
import io.mailproxy.it.FreePorts;
import io.mailproxy.tls.GeneratedCertificate;
import io.mailproxy.tls.SelfSignedCertificates;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container image as an admin runs it: built by {@code packaging/build-image} from
 * {@code packaging/Containerfile}, on the host's network, with the configuration in a mounted
 * {@code /etc/mailproxy}. It serves IMAPS to a real Dovecot on loopback, takes
 * {@code docker kill -s HUP} without dropping anything, reports healthy through its HEALTHCHECK, and
 * stops on {@code docker stop}. Negative controls: a mounted file that stops being valid turns the
 * container unhealthy; one that never was makes the container exit 2 with the file's line.
 *
 * <p>Not tagged dovecot: what is tested is the image, once, not each Dovecot release.
 */
class ContainerImageTest {

    /** The image's fixed uid and gid for mailproxy (packaging/Containerfile). */
    private static final String GID = "990";
    private static final Duration START = Duration.ofSeconds(90);
    /** Health checks start a JVM each: a few rounds of them on a loaded 2-core machine. */
    private static final Duration HEALTH = Duration.ofSeconds(120);

    @TempDir
    static Path dir;
    private static String image;
    private static Dovecot dovecot;
    private final List<String> containers = new ArrayList<>();

    @BeforeAll
    static void build() {
        Path deb = Packaging.deb();
        image = Packaging.run(List.of(Packaging.ROOT.resolve("packaging/build-image").toString()),
                Map.of("MAILPROXY_DEB", deb.toString()), Packaging.BUILD_TIMEOUT).ok("packaging/build-image").lastLine();
        assertTrue(image.matches("mailproxy:[0-9a-z.-]+"), image);
        dovecot = Dovecot.start("image");
    }

    @AfterAll
    static void stopDovecot() {
        if (dovecot != null) {
            dovecot.close();
        }
    }

    @AfterEach
    void removeContainers() {
        for (String id : containers) {
            docker("rm", "-f", id);
        }
    }

    @Test
    void servesImapsTakesSighupAndIsHealthy() throws Exception {
        int port = FreePorts.next();
        Path etc = configDirectory("good", port, "bind");
        assertEquals("mailproxy:mailproxy", docker("image", "inspect", "-f", "{{.Config.User}}", image)
                .ok("inspect").lastLine(), "not root");
        String id = run(etc, "-d", "--health-interval", "5s", "--health-start-period", "60s");
        Packaging.Running log = new Packaging.Running(List.of("docker", "logs", "-f", id));
        try {
            log.awaitLine(Pattern.compile("frontend imaps \\(imap, TLS\\) listening on 127\\.0\\.0\\.1:" + port), START);
            login(port, "image-alice");

            docker("kill", "-s", "HUP", id).ok("docker kill -s HUP");
            log.awaitLine(Packaging.SIGHUP_TAKEN, Duration.ofSeconds(30));
            login(port, "image-bob");
            assertEquals("true", inspect(id, "{{.State.Running}}"), log.output());

            awaitHealth(id, "healthy");
            // Negative control: the mounted file stops being one mailproxy accepts; the health check sees it.
            Files.writeString(etc.resolve("mailproxy.conf"), config(port, "bnid"));
            awaitHealth(id, "unhealthy");

            docker("stop", "--time", "45", id).ok("docker stop");
            assertEquals("143", inspect(id, "{{.State.ExitCode}}"), "a JVM stopped by SIGTERM: " + log.output());
            log.awaitLine(Pattern.compile("Main: stopped"), Duration.ofSeconds(10));
        } finally {
            log.destroy();
        }
    }

    /** Negative control: a mounted configuration with a typo: the container ends with exit 2 and the line. */
    @Test
    void aBrokenMountedConfigurationExitsWithItsError() throws IOException {
        Path etc = configDirectory("broken", FreePorts.next(), "bnid");
        String id = run(etc, "-d");
        String exit = Packaging.run(List.of("docker", "wait", id), Map.of(), START).ok("docker wait").lastLine();
        String output = docker("logs", id).output();
        assertEquals("2", exit, output);
        assertTrue(output.lines().anyMatch(l -> l.matches(
                "/etc/mailproxy/mailproxy\\.conf:\\d+: mailproxy\\.frontends\\.imaps\\.bnid: .*")), output);
    }

    private String run(Path etc, String... options) {
        List<String> args = new ArrayList<>(List.of("run", "--network", "host", "--label", Packaging.LABEL,
                "-v", etc + ":/etc/mailproxy:ro"));
        args.addAll(List.of(options));
        args.add(image);
        String id = docker(args.toArray(String[]::new)).ok("docker run").lastLine();
        containers.add(id);
        return id;
    }

    /** LOGIN through the container with a real openssl s_client; Dovecot logs the client's address. */
    private static void login(int port, String user) {
        ExternalClient.Result imap = ExternalClient.run(dir, List.of("openssl", "s_client", "-quiet", "-connect",
                "127.0.0.1:" + port), List.of("a LOGIN " + user + " demo", "b LOGOUT"), Duration.ofSeconds(60));
        assertTrue(imap.output().contains("a OK"), "LOGIN through the container: " + imap.output());
        String login = dovecot.awaitLog(dovecot.version().login("imap", user), Duration.ofSeconds(30));
        assertTrue(login.contains("rip=127.0.0.1,"), login);
    }

    /**
     * What an admin mounts: the directory, the file and the key readable by the image's group only
     * (root:990, 0750 and 0640), the certificate by all.
     */
    private static Path configDirectory(String name, int port, String bindKey) throws IOException {
        Path etc = dir.resolve(name);
        GeneratedCertificate cert = SelfSignedCertificates.selfSigned(dir.resolve(name + "-tls"), "localhost", "127.0.0.1");
        Files.createDirectories(etc);
        Files.copy(cert.certFile(), etc.resolve("test.pem"));
        Files.copy(cert.keyFile(), etc.resolve("test.key"));
        Files.writeString(etc.resolve("mailproxy.conf"), config(port, bindKey));
        Packaging.run(List.of("sh", "-c", "chgrp -R " + GID + " " + etc + " && chmod 0750 " + etc + " && chmod 0640 "
                + etc + "/test.key " + etc + "/mailproxy.conf && chmod 0644 " + etc + "/test.pem && chmod o+x " + dir),
                Map.of(), Packaging.SHORT).ok("permissions");
        return etc;
    }

    private static String config(int port, String bindKey) {
        return """
                mailproxy {
                  frontends {
                    imaps {
                      %s = ["127.0.0.1:%d"]
                      protocol = imap
                      backend = imap
                      tls { mode = implicit, certificates = [{ cert = "/etc/mailproxy/test.pem", key = "/etc/mailproxy/test.key" }] }
                    }
                  }
                  backends { imap { servers = [{ name = dc1, address = "127.0.0.1:%d" }] } }
                }
                """.formatted(bindKey, port, dovecot.ports().imapHaproxy());
    }

    private static String inspect(String id, String format) {
        return docker("inspect", "-f", format, id).ok("docker inspect").lastLine();
    }

    private static void awaitHealth(String id, String status) throws InterruptedException {
        long deadline = System.nanoTime() + HEALTH.toNanos();
        String seen = "";
        while (System.nanoTime() < deadline) {
            seen = inspect(id, "{{.State.Health.Status}}");
            if (seen.equals(status)) {
                return;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("health is " + seen + ", not " + status + " within " + HEALTH + ": "
                + docker("inspect", "-f", "{{json .State.Health}}", id).output());
    }
}
