package io.mailproxy.it.packaging;

import static io.mailproxy.it.packaging.Packaging.docker;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.dovecot.Dovecot;
import io.mailproxy.it.ExternalClient;
import io.mailproxy.tls.GeneratedCertificate;
import io.mailproxy.tls.SelfSignedCertificates;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Debian package as an admin meets it: built by {@code packaging/build-deb} from a clean
 * checkout, checked by lintian, installed with {@code apt-get install ./mailproxy_*.deb} on Debian 12
 * (a container made locally with mmdebstrap, holding the package's dependencies and systemd, so the
 * install needs no network and the host is not touched), then removed and purged.
 *
 * <p>systemd does not run in that container (nor on these build machines), so the unit is checked
 * with {@code systemd-analyze verify}, and its {@code ExecStart} line, read from the installed unit,
 * is run the way the unit runs it: as user mailproxy with the one ambient capability, the same
 * bounding set and no new privileges ({@code setpriv}), with {@code $NOTIFY_SOCKET} set. It binds
 * port 993 without root, says READY=1, and serves IMAPS to a real Dovecot on loopback.
 *
 * <p>Not tagged dovecot: what is tested is the package, once, not each Dovecot release.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DebianPackageTest {

    private static final String UNIT = "/lib/systemd/system/mailproxy.service";
    private static final String CONFIG = "/etc/mailproxy/mailproxy.conf";
    /** A cold JVM on a loaded 2-core machine, in a container. */
    private static final Duration START = Duration.ofSeconds(90);
    /** What the unit's AmbientCapabilities, CapabilityBoundingSet and NoNewPrivileges amount to. */
    private static final List<String> AS_THE_UNIT = List.of("setpriv", "--reuid", "mailproxy", "--regid", "mailproxy",
            "--init-groups", "--bounding-set", "-all,+net_bind_service", "--inh-caps", "+net_bind_service",
            "--ambient-caps", "+net_bind_service", "--no-new-privs", "--");
    /** The same user without the capability: the negative control. */
    private static final List<String> WITHOUT_THE_CAPABILITY = List.of("setpriv", "--reuid", "mailproxy", "--regid",
            "mailproxy", "--init-groups", "--bounding-set", "-all", "--inh-caps", "-all", "--no-new-privs", "--");

    @TempDir
    static Path dir;
    private static Path deb;
    private static String container;
    private static Dovecot dovecot;

    @BeforeAll
    static void start() throws IOException {
        deb = Packaging.deb();
        String image = Packaging.debianBase("systemd", "default-jre-headless,adduser,procps,systemd");
        // The mailproxy user in the container reads and writes here (the notify socket).
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        dovecot = Dovecot.start("pkg");
        container = docker("run", "-d", "--network", "host", "--label", Packaging.LABEL, "-v", dir + ":" + dir,
                "-v", deb + ":/tmp/" + deb.getFileName() + ":ro", image, "sleep", "infinity").ok("docker run").lastLine();
    }

    @AfterAll
    static void stop() {
        if (container != null) {
            docker("rm", "-f", container);
        }
        if (dovecot != null) {
            dovecot.close();
        }
    }

    /**
     * lintian has nothing to say but what packaging/deb/lintian-overrides explains. One run without
     * the overrides (lintian takes most of a minute on this package): every tag must be overridden,
     * and every override must still be needed, so a stale override or a new warning both fail, and
     * the overridden tags showing up proves that lintian did read the package.
     */
    @Test
    @Order(0)
    void lintianIsCleanButForItsExplainedOverrides() throws IOException {
        List<String> overrides = Files.readAllLines(Packaging.ROOT.resolve("packaging/deb/lintian-overrides")).stream()
                .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        assertFalse(overrides.isEmpty());
        Packaging.Result r = Packaging.run(List.of("lintian", "--pedantic", "-I", "--no-override", deb.toString()),
                Map.of(), Packaging.BUILD_TIMEOUT);
        List<String> tags = r.output().lines().filter(l -> l.matches("^[EWIPX]: .*")).map(l -> l.substring(3)).toList();
        assertEquals(List.of(), tags.stream().filter(t -> overrides.stream().noneMatch(o -> overrides(o, t))).toList(),
                "tags no override explains:\n" + r.output());
        assertEquals(List.of(), overrides.stream().filter(o -> tags.stream().noneMatch(t -> overrides(o, t))).toList(),
                "overrides lintian no longer needs:\n" + r.output());
    }

    /** An override without a [pointer] covers the tag wherever it is. */
    private static boolean overrides(String override, String tag) {
        return override.contains("[") ? tag.equals(override) : tag.equals(override) || tag.startsWith(override + " ");
    }

    @Test
    @Order(1)
    void installsWithAptAsAnAdminWould() {
        Packaging.Result install = exec("apt-get", "install", "-y", "/tmp/" + deb.getFileName()).ok("apt-get install");
        assertTrue(install.output().contains("Setting up mailproxy"), install.output());
        assertEquals("root:mailproxy 750", exec("stat", "-c", "%U:%G %a", "/etc/mailproxy").ok("stat").lastLine(),
                "/etc/mailproxy: only root and the service's group may look inside");
        String user = exec("getent", "passwd", "mailproxy").ok("getent").lastLine();
        assertTrue(user.matches("mailproxy:x:\\d+:\\d+::/nonexistent:/usr/sbin/nologin"), user);
        assertTrue(exec("dpkg-query", "-W", "-f=${Conffiles}", "mailproxy").ok("dpkg-query").output()
                .contains(CONFIG + " "), "the configuration is a conffile");
        exec("test", "-f", "/usr/share/mailproxy/mailproxy.jar", "-a", "-x", "/usr/bin/mailproxy", "-a", "-f",
                "/usr/share/man/man8/mailproxy.8.gz", "-a", "-f", "/usr/share/doc/mailproxy/copyright", "-a", "-f",
                "/usr/share/doc/mailproxy/changelog.Debian.gz", "-a", "-f", "/usr/share/doc/mailproxy/README.md.gz")
                .ok("the installed files");
        // The launcher runs the installed jar (no Maven in here): the sample's certificates do not exist yet.
        // MAILPROXY_JAVA_OPTS reaches the JVM: a heap too small to start says so.
        Packaging.Result tiny = exec("env", "MAILPROXY_JAVA_OPTS=-Xmx1k", "mailproxy", "check", "--config", CONFIG);
        assertTrue(tiny.exitCode() != 0 && tiny.output().contains("Too small maximum heap"), tiny.output());
        Packaging.Result check = exec("mailproxy", "check", "--config", CONFIG);
        assertEquals(2, check.exitCode(), check.output());
        assertTrue(java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(CONFIG) + ":\\d+: "
                + java.util.regex.Pattern.quote("mailproxy.frontends.imaps.tls.certificates.0: "
                + "/etc/mailproxy/mail.example.com.pem does not exist")).matcher(check.output()).find(), check.output());
    }

    @Test
    @Order(2)
    void unitPassesSystemdAnalyzeVerify() {
        String unit = exec("cat", UNIT).ok("cat the unit").output();
        for (String line : List.of("Type=notify", "User=mailproxy", "ExecReload=/bin/kill -HUP $MAINPID",
                "ExecStartPre=/usr/bin/mailproxy check --config " + CONFIG, "AmbientCapabilities=CAP_NET_BIND_SERVICE",
                "CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "NoNewPrivileges=yes", "ProtectSystem=strict",
                "LimitNOFILE=1048576", "SuccessExitStatus=143", "TimeoutStopSec=60s")) {
            assertTrue(unit.lines().anyMatch(line::equals), "the unit has " + line);
        }
        // --man=no: minbase has no man-db to look up Documentation=man:mailproxy(8) with.
        Packaging.Result verify = exec("systemd-analyze", "verify", "--man=no", UNIT);
        assertEquals(0, verify.exitCode(), verify.output());
        assertEquals("", verify.output().trim(), "systemd-analyze has nothing to say about the unit");
        // Negative control: one bad value in a copy, which systemd would ignore with a warning, is reported.
        exec("sh", "-c", "mkdir -p /tmp/typo && sed 's/^NotifyAccess=main$/NotifyAccess=mian/' " + UNIT
                + " > /tmp/typo/mailproxy.service").ok("a copy with a typo");
        Packaging.Result typo = exec("systemd-analyze", "verify", "--man=no", "/tmp/typo/mailproxy.service");
        assertTrue(typo.output().contains("Failed to parse notify access specifier, ignoring: mian"), typo.output());
    }

    @Test
    @Order(3)
    void execStartBinds993AsMailproxyAndServesImapsToDovecot() throws Exception {
        installConfig();
        List<String> execStart = unitLine("ExecStart");
        List<String> execStartPre = unitLine("ExecStartPre");
        List<String> check = new ArrayList<>(List.of("docker", "exec", container));
        check.addAll(AS_THE_UNIT);
        check.addAll(execStartPre);
        Packaging.Result checked = Packaging.run(check, Map.of(), Packaging.SHORT);
        assertEquals(0, checked.exitCode(), "ExecStartPre as mailproxy: " + checked.output());

        Path notifySocket = dir.resolve("notify.sock");
        Packaging.Running serviceManager = new Packaging.Running(List.of("socat", "-u",
                "UNIX-RECV:" + notifySocket + ",perm=0777", "STDOUT"));
        Packaging.Running proxy = null;
        try {
            waitForSocket(notifySocket, serviceManager);
            List<String> command = new ArrayList<>(List.of("docker", "exec", "-e", "NOTIFY_SOCKET=" + notifySocket,
                    container, "sh", "-c", "echo pid=$$; exec \"$@\"", "sh"));
            command.addAll(AS_THE_UNIT);
            command.addAll(execStart);
            proxy = new Packaging.Running(command);
            proxy.awaitLine(Pattern.compile("frontend imaps \\(imap, TLS\\) listening on 127\\.0\\.0\\.1:993"), START);
            serviceManager.awaitLine(Pattern.compile("^READY=1$"), START);
            Matcher pid = Pattern.compile("^pid=(\\d+)$").matcher(proxy.awaitLine(Pattern.compile("^pid="), START));
            assertTrue(pid.find());
            String status = exec("cat", "/proc/" + pid.group(1) + "/status").ok("the JVM's status").output();
            String uid = exec("id", "-u", "mailproxy").ok("id").lastLine();
            assertTrue(status.lines().anyMatch(l -> l.matches("Uid:\\s+" + uid + "\\s+" + uid + "\\s+.*")),
                    "the JVM runs as mailproxy (" + uid + "):\n" + status);
            assertTrue(status.contains("CapEff:\t0000000000000400"), "CAP_NET_BIND_SERVICE and nothing else:\n" + status);
            assertTrue(status.contains("CapAmb:\t0000000000000400"), status);

            ExternalClient.Result imap = ExternalClient.run(dir, List.of("openssl", "s_client", "-quiet", "-connect",
                    "127.0.0.1:993"), List.of("a LOGIN pkg-alice demo", "b LOGOUT"), Duration.ofSeconds(60));
            assertTrue(imap.output().contains("a OK"), "LOGIN through the installed package: " + imap.output());
            String login = dovecot.awaitLog(dovecot.version().login("imap", "pkg-alice"), Duration.ofSeconds(30));
            assertTrue(login.contains("rip=127.0.0.1,"), "Dovecot sees the client's address: " + login);

            // systemctl reload: the unit's ExecReload lines, $MAINPID being the JVM (the launcher execs it).
            List<String> reload = exec("sed", "-n", "s/^ExecReload=//p", UNIT).ok("read ExecReload").output().lines()
                    .toList();
            assertEquals(List.of("/usr/bin/mailproxy check --config " + CONFIG, "/bin/kill -HUP $MAINPID"), reload);
            List<String> hup = new ArrayList<>(List.of("docker", "exec", container));
            hup.addAll(AS_THE_UNIT);
            hup.addAll(Arrays.asList(reload.get(1).replace("$MAINPID", pid.group(1)).split(" ")));
            assertEquals(0, Packaging.run(hup, Map.of(), Packaging.SHORT).exitCode(), "ExecReload's kill");
            proxy.awaitLine(Packaging.SIGHUP_TAKEN, Duration.ofSeconds(30));
            ExternalClient.Result again = ExternalClient.run(dir, List.of("openssl", "s_client", "-quiet", "-connect",
                    "127.0.0.1:993"), List.of("a LOGIN pkg-bob demo", "b LOGOUT"), Duration.ofSeconds(60));
            assertTrue(again.output().contains("a OK"), "still serving after the reload signal: " + again.output());

            exec("/bin/kill", "-TERM", pid.group(1)).ok("kill -TERM");
            assertEquals(143, proxy.awaitExit(Duration.ofSeconds(60)), "SuccessExitStatus=143: " + proxy.output());
            // Datagrams carry no final newline: socat prints them back to back.
            serviceManager.awaitLine(Pattern.compile("STOPPING=1"), Duration.ofSeconds(10));
            assertFalse(proxy.output().contains("Exception"), proxy.output());
        } finally {
            if (proxy != null) {
                proxy.destroy();
            }
            serviceManager.destroy();
        }
    }

    /** Negative control: the same line as the same user without the capability cannot bind 993, and says so once. */
    @Test
    @Order(4)
    void withoutTheCapabilityTheBindFailsWithOneLine() throws Exception {
        installConfig();
        List<String> command = new ArrayList<>(List.of("docker", "exec", container));
        command.addAll(WITHOUT_THE_CAPABILITY);
        command.addAll(unitLine("ExecStart"));
        Packaging.Result r = Packaging.run(command, Map.of(), START);
        assertEquals(2, r.exitCode(), r.output());
        List<String> problems = r.output().lines().filter(l -> l.contains("cannot listen")).toList();
        assertEquals(List.of(CONFIG + ":4: mailproxy.frontends.imaps.bind: cannot listen on 127.0.0.1:993: "
                + "Permission denied"), problems, r.output());
    }

    @Test
    @Order(5)
    void removeKeepsTheConfigurationAndPurgeRemovesIt() {
        exec("apt-get", "remove", "-y", "mailproxy").ok("apt-get remove");
        exec("test", "!", "-e", "/usr/share/mailproxy/mailproxy.jar").ok("remove takes the program");
        exec("test", "-f", CONFIG, "-a", "-f", "/etc/mailproxy/test.key").ok("remove keeps /etc/mailproxy");
        exec("apt-get", "purge", "-y", "mailproxy").ok("apt-get purge");
        exec("test", "!", "-e", "/etc/mailproxy").ok("purge removes /etc/mailproxy");
        String state = exec("sh", "-c", "dpkg-query -W -f='${db:Status-Status}' mailproxy 2>&1 || true").output();
        assertTrue(state.contains("not-installed") || state.contains("no packages found"), state);
    }

    /** The admin's edit: IMAPS on 993 to Dovecot's haproxy listener, with a key only the group may read. */
    private static void installConfig() throws IOException {
        GeneratedCertificate cert = SelfSignedCertificates.selfSigned(dir.resolve("tls"), "localhost", "127.0.0.1");
        Path config = dir.resolve("mailproxy.conf");
        Files.writeString(config, """
                mailproxy {
                  frontends {
                    imaps {
                      bind = ["127.0.0.1:993"]
                      protocol = imap
                      backend = imap
                      tls { mode = implicit, certificates = [{ cert = "/etc/mailproxy/test.pem", key = "/etc/mailproxy/test.key" }] }
                    }
                  }
                  backends { imap { servers = [{ name = dc1, address = "127.0.0.1:%d" }] } }
                }
                """.formatted(dovecot.ports().imapHaproxy()));
        exec("install", "-o", "root", "-g", "mailproxy", "-m", "0640", cert.keyFile().toString(), "/etc/mailproxy/test.key")
                .ok("install the key");
        exec("install", "-m", "0644", cert.certFile().toString(), "/etc/mailproxy/test.pem").ok("install the certificate");
        exec("install", "-m", "0644", config.toString(), CONFIG).ok("install the configuration");
    }

    /** {@code key=}'s command line in the installed unit, split as systemd splits one without quotes. */
    private static List<String> unitLine(String key) {
        String line = exec("sed", "-n", "s/^" + key + "=//p", UNIT).ok("read " + key).lastLine();
        assertFalse(line.isEmpty() || line.contains("\"") || line.contains("$"), key + " is a plain command: " + line);
        return Arrays.asList(line.split(" +"));
    }

    private static Packaging.Result exec(String... command) {
        List<String> args = new ArrayList<>(List.of("exec", container));
        args.addAll(List.of(command));
        return docker(args.toArray(String[]::new));
    }

    private static void waitForSocket(Path socket, Packaging.Running socat) throws InterruptedException {
        for (int i = 0; i < 200 && !Files.exists(socket); i++) {
            Thread.sleep(50);
        }
        assertTrue(Files.exists(socket), "socat made no socket: " + socat.output());
    }
}
