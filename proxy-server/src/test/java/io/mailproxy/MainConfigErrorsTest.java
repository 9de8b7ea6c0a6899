package io.mailproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.mailproxy.tls.GeneratedCertificate;
import io.mailproxy.tls.SelfSignedCertificates;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code mailproxy check} and {@code mailproxy run} on broken configurations, in a child JVM so that
 * the exit code is the real one and a stack trace would really reach the terminal: every problem is
 * one line {@code FILE:LINE: key: message} on stderr, exit code 2.
 */
class MainConfigErrorsTest {

    /** A child that has not finished by then is stuck; {@code run} on a good file never finishes by itself. */
    private static final long CHILD_TIMEOUT_SECONDS = 20;

    @TempDir
    Path dir;

    /** The valid plaintext configuration every case below breaks in one place. */
    private static String plaintext(String frontendExtra, String serverExtra, String backendExtra) {
        return """
                mailproxy {
                  frontends {
                    imap {
                      bind = ["127.0.0.1:10143"]
                      backend = pool
                %s
                    }
                  }
                  backends {
                    pool {
                      servers = [ { name = dc1, address = "127.0.0.1:20143"%s } ]
                %s
                    }
                  }
                }
                """.formatted(frontendExtra, serverExtra, backendExtra);
    }

    /** A valid implicit-TLS configuration with one certificate entry. */
    private static String tls(Path cert, Path key) {
        return """
                mailproxy {
                  frontends {
                    imaps {
                      bind = ["127.0.0.1:10993"]
                      tls {
                        mode = implicit
                        certificates = [
                          { cert = "%s", key = "%s" }
                        ]
                      }
                      backend = pool
                    }
                  }
                  backends {
                    pool {
                      servers = [ { name = dc1, address = "127.0.0.1:20143" } ]
                    }
                  }
                }
                """.formatted(cert, key);
    }

    // ---- negative controls: the same files without the fault pass ----

    @Test
    void validPlaintextConfigurationPasses() throws Exception {
        Path file = write(plaintext("", "", ""));
        Result r = mailproxy(Map.of(), "check", "--config", file.toString());
        assertEquals(0, r.exit, r.toString());
        assertEquals(file + ": OK (1 frontend(s), 1 backend(s))", r.out.strip());
        assertEquals("", r.err);
    }

    @Test
    void validTlsConfigurationPasses() throws Exception {
        GeneratedCertificate g = SelfSignedCertificates.selfSigned(dir.resolve("certs"), "mail.example.test");
        Path file = write(tls(g.certFile(), g.keyFile()));
        Result r = mailproxy(Map.of(), "check", "--config", file.toString());
        assertEquals(0, r.exit, r.toString());
        assertEquals("", r.err);
    }

    // ---- unknown keys ----

    @Test
    void unknownKeyInFrontend() throws Exception {
        Path file = write(plaintext("      bnid = [\"127.0.0.1:10144\"]", "", ""));
        assertProblems(check(file), file,
                problem(file, "bnid", "mailproxy.frontends.imap.bnid", "unknown key (did you mean \"bind\"?)"));
    }

    @Test
    void typoAtTopLevel() throws Exception {
        Path file = write(plaintext("", "", "") + "mailprxy {}\n");
        assertProblems(check(file), file,
                problem(file, "mailprxy", "mailprxy", "unknown key (the configuration lives under \"mailproxy\")"));
    }

    @Test
    void unknownKeyInServerEntry() throws Exception {
        Path file = write(plaintext("", ", wieght = 2", ""));
        assertProblems(check(file), file,
                problem(file, "wieght", "mailproxy.backends.pool.servers.0.wieght", "unknown key (did you mean \"weight\"?)"));
    }

    // ---- certificates ----

    @Test
    void missingCertificateFile() throws Exception {
        GeneratedCertificate g = SelfSignedCertificates.selfSigned(dir.resolve("certs"), "mail.example.test");
        Path missing = dir.resolve("certs/missing.pem");
        Path file = write(tls(missing, g.keyFile()));
        assertProblems(check(file), file,
                problem(file, "cert =", "mailproxy.frontends.imaps.tls.certificates.0", missing + " does not exist"));
    }

    @Test
    void keyIsADirectory() throws Exception {
        GeneratedCertificate g = SelfSignedCertificates.selfSigned(dir.resolve("certs"), "mail.example.test");
        Path keyDir = Files.createDirectories(dir.resolve("key-dir"));
        Path file = write(tls(g.certFile(), keyDir));
        assertProblems(check(file), file,
                problem(file, "cert =", "mailproxy.frontends.imaps.tls.certificates.0", keyDir + " is not a readable PEM file"));
    }

    @Test
    void keyFileHoldsGarbage() throws Exception {
        GeneratedCertificate g = SelfSignedCertificates.selfSigned(dir.resolve("certs"), "mail.example.test");
        Path garbage = Files.writeString(dir.resolve("garbage.pem"), "this is not PEM\n");
        Path file = write(tls(g.certFile(), garbage));
        assertProblems(check(file), file,
                problem(file, "cert =", "mailproxy.frontends.imaps.tls.certificates.0", garbage + " holds no PEM private key"));
    }

    /** openssl 3 writes PKCS#8 {@code ENCRYPTED PRIVATE KEY}; {@code -traditional} the PKCS#1 Proc-Type form. */
    @ParameterizedTest
    @ValueSource(strings = {"pkcs8", "traditional"})
    void encryptedKey(String form) throws Exception {
        Path certDir = dir.resolve("certs");
        GeneratedCertificate g = SelfSignedCertificates.selfSigned(certDir, "mail.example.test");
        Path encrypted = certDir.resolve("encrypted.pem");
        if (form.equals("pkcs8")) {
            openssl("pkey", "-in", g.keyFile().toString(), "-aes256", "-passout", "pass:x", "-out", encrypted.toString());
            assertTrue(Files.readString(encrypted).startsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        } else {
            openssl("genrsa", "-traditional", "-aes256", "-passout", "pass:x", "-out", encrypted.toString(), "2048");
            assertTrue(Files.readString(encrypted).contains("Proc-Type: 4,ENCRYPTED"));
        }
        Path file = write(tls(g.certFile(), encrypted));
        assertProblems(check(file), file,
                problem(file, "cert =", "mailproxy.frontends.imaps.tls.certificates.0",
                        encrypted + " holds an encrypted private key", "without a passphrase"));
    }

    @Test
    void keyDoesNotMatchCertificate() throws Exception {
        GeneratedCertificate a = SelfSignedCertificates.selfSigned(dir.resolve("a"), "a.example.test");
        GeneratedCertificate b = SelfSignedCertificates.selfSigned(dir.resolve("b"), "b.example.test");
        Path file = write(tls(a.certFile(), b.keyFile()));
        assertProblems(check(file), file,
                problem(file, "cert =", "mailproxy.frontends.imaps.tls.certificates.0",
                        "the key in " + b.keyFile() + " does not belong to the certificate in " + a.certFile()));
    }

    // ---- values ----

    @Test
    void badBindAddressesAreEachReportedOnTheirLine() throws Exception {
        Path file = write("""
                mailproxy {
                  frontends {
                    imap {
                      bind = [
                        "127.0.0.1"
                        "host:99999"
                        "[::1]"
                      ]
                      backend = pool
                    }
                  }
                  backends {
                    pool {
                      servers = [ { name = dc1, address = "10.0.0.1:143143" } ]
                    }
                  }
                }
                """);
        assertProblems(check(file), file,
                problem(file, "\"127.0.0.1\"", "mailproxy.frontends.imap.bind",
                        "\"127.0.0.1\" is not an address like \"127.0.0.1:993\" or \"[::1]:993\""),
                problem(file, "host:99999", "mailproxy.frontends.imap.bind",
                        "port 99999 in \"host:99999\" is not within 1..65535"),
                problem(file, "\"[::1]\"", "mailproxy.frontends.imap.bind",
                        "\"[::1]\" is not an address like \"[::1]:993\""),
                problem(file, "143143", "mailproxy.backends.pool.servers.0.address",
                        "port 143143 in \"10.0.0.1:143143\" is not within 1..65535"));
    }

    @Test
    void unknownBackendName() throws Exception {
        Path file = write(plaintext("", "", "").replace("backend = pool", "backend = poool"));
        assertProblems(check(file), file,
                problem(file, "backend = poool", "mailproxy.frontends.imap.backend",
                        "no backend named \"poool\" (known: pool)"));
    }

    @Test
    void badBalanceValue() throws Exception {
        Path file = write(plaintext("", "", "      balance = fastest"));
        assertProblems(check(file), file,
                problem(file, "fastest", "mailproxy.backends.pool.balance", "\"fastest\" is not one of roundrobin | static-rr | leastconn | first | source | random"));
    }

    @Test
    void badDurations() throws Exception {
        Path file = write(plaintext("      timeout.idle = soon", "", "      timeout.connect = 5 parsecs"));
        assertProblems(check(file), file,
                problem(file, "soon", "mailproxy.frontends.imap.timeout.idle", "expected a duration such as 500ms, 5s or 31m"),
                problem(file, "parsecs", "mailproxy.backends.pool.timeout.connect", "expected a duration such as 500ms, 5s or 31m"));
    }

    @Test
    void hoconSyntaxErrorNamesItsLine() throws Exception {
        Path file = write("""
                mailproxy {
                  frontends {
                    imap {
                      bind = [ "127.0.0.1:10143"
                    }
                  }
                }
                """);
        // The parser notices the unclosed list at the "}" that follows it.
        assertProblems(check(file), file, new Problem(file, 5, "mailproxy", List.of("List should have")));
    }

    @Test
    void severalErrorsAreAllPrintedOnePerLine() throws Exception {
        Path file = write("""
                mailproxy {
                  frontends {
                    imap {
                      bnid = ["127.0.0.1:10144"]
                      bind = ["127.0.0.1:10143"]
                      backend = pool
                    }
                  }
                  backends {
                    pool {
                      balance = fastest
                      servers = [ { name = dc1, address = "127.0.0.1:20143", wieght = 2 } ]
                      timeout.connect = 5 parsecs
                    }
                  }
                }
                mailprxy {}
                """);
        assertProblems(check(file), file,
                new Problem(file, 4, "mailproxy.frontends.imap.bnid", List.of("unknown key (did you mean \"bind\"?)")),
                new Problem(file, 11, "mailproxy.backends.pool.balance", List.of("\"fastest\" is not one of")),
                new Problem(file, 12, "mailproxy.backends.pool.servers.0.wieght", List.of("unknown key (did you mean \"weight\"?)")),
                new Problem(file, 13, "mailproxy.backends.pool.timeout.connect", List.of("expected a duration")),
                new Problem(file, 17, "mailprxy", List.of("unknown key")));
    }

    // ---- run ----

    /** Started as root (as CI runs), {@code run} refuses unless the file says run-as-root = true. */
    @Test
    void runAsRootIsRefusedUnlessTheFileAllowsIt() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "only root can be refused as root");
        Path file = write(plaintext("", "", ""));
        Result r = mailproxy(Map.of(), "run", "--config", file.toString());
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().startsWith("mailproxy: refusing to run as root.") && r.err().contains("run-as-root = true"),
                r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }

    @Test
    void portInUseNamesTheBindKey() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            Path file = write(plaintext("", "", "").replace("127.0.0.1:10143", "127.0.0.1:" + port)
                    .replaceFirst("mailproxy \\{", "mailproxy {\n  run-as-root = true"));
            Result r = mailproxy(Map.of(), "run", "--config", file.toString());
            assertProblems(r, file, problem(file, "bind =", "mailproxy.frontends.imap.bind",
                    "cannot listen on 127.0.0.1:" + port + ":", "Address already in use"));
        }
    }

    // ---- the repository's sample files ----

    @Test
    void demoSampleIsValid() throws Exception {
        Path demoDir = dir.resolve("demo");
        SelfSignedCertificates.selfSigned(demoDir, "localhost", "127.0.0.1");
        Path sample = repositoryRoot().resolve("etc/demo.conf");
        Result r = mailproxy(Map.of("MAILPROXY_DEMO_DIR", demoDir.toString()), "check", "--config", sample.toString());
        assertEquals(0, r.exit, r.toString());
        assertEquals(sample + ": OK (3 frontend(s), 3 backend(s))", r.out.strip());
        assertEquals("", r.err);
    }

    @Test
    void productionSampleHasOnlyCertificateProblemsHere() throws Exception {
        Path sample = repositoryRoot().resolve("etc/mailproxy.conf");
        Path cert = Path.of("/etc/mailproxy/mail.example.com.pem");
        assertFalse(Files.exists(cert), cert + " exists on this machine: this test expects it not to");
        Result r = mailproxy(Map.of(), "check", "--config", sample.toString());
        String text = Files.readString(sample);
        int imaps = lineOf(text, "cert = \"/etc/mailproxy/mail.example.com.pem\"", 1);
        int pop3s = lineOf(text, "cert = \"/etc/mailproxy/mail.example.com.pem\"", 2);
        assertProblems(r, sample,
                new Problem(sample, imaps, "mailproxy.frontends.imaps.tls.certificates.0", List.of(cert + " does not exist")),
                new Problem(sample, pop3s, "mailproxy.frontends.pop3s.tls.certificates.0", List.of(cert + " does not exist")));
    }

    // ---- helpers ----

    /** A problem expected on stderr: the exact location and key, and words the message must contain. */
    record Problem(Path file, int line, String path, List<String> words) {
        boolean matches(String printed) {
            String prefix = file + ":" + line + ": " + path + ": ";
            return printed.startsWith(prefix) && words.stream().allMatch(w -> printed.substring(prefix.length()).contains(w));
        }

        @Override
        public String toString() {
            return file + ":" + line + ": " + path + ": ..." + words;
        }
    }

    private Problem problem(Path file, String marker, String path, String... words) throws IOException {
        return new Problem(file, lineOf(Files.readString(file), marker, 1), path, Arrays.asList(words));
    }

    /** The 1-based line of the {@code nth} line holding {@code marker}. */
    private static int lineOf(String text, String marker, int nth) {
        String[] lines = text.split("\n", -1);
        int seen = 0;
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].contains(marker) && ++seen == nth) {
                return i + 1;
            }
        }
        throw new AssertionError("no line #" + nth + " with " + marker + " in\n" + text);
    }

    /** Exit 2, no stack trace, and stderr is exactly the expected problems, one line each, in any order. */
    private static void assertProblems(Result r, Path file, Problem... expected) {
        assertEquals(Main.BAD_CONFIG, r.exit, r.toString());
        assertFalse(r.err.contains("\tat ") || r.err.contains("Exception in thread") || r.out.contains("\tat "),
                "a stack trace was printed:\n" + r);
        List<String> lines = r.err.lines().toList();
        assertEquals(expected.length, lines.size(), "one line per problem, expected " + List.of(expected) + "\n" + r);
        List<String> unmatched = new ArrayList<>(lines);
        for (Problem p : expected) {
            String hit = unmatched.stream().filter(p::matches).findFirst()
                    .orElseGet(() -> fail("no line matches " + p + " in\n" + r.err));
            unmatched.remove(hit);
        }
        assertTrue(lines.stream().allMatch(l -> l.startsWith(file + ":")), r.err);
    }

    private Path write(String text) throws IOException {
        return Files.writeString(Files.createTempFile(dir, "mailproxy", ".conf"), text);
    }

    private Result check(Path file) throws Exception {
        return mailproxy(Map.of(), "check", "--config", file.toString());
    }

    record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    /** Runs {@code io.mailproxy.Main} in a child JVM on this test's class path. */
    private Result mailproxy(Map<String, String> env, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                // A short-lived child: the C1 compiler and the serial collector start fastest.
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile(dir, "stdout", ".txt");
        Path err = Files.createTempFile(dir, "stderr", ".txt");
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(CHILD_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            fail("mailproxy " + String.join(" ", args) + " did not exit within " + CHILD_TIMEOUT_SECONDS + " s:\n"
                    + Files.readString(out) + Files.readString(err));
        }
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    private static void openssl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "openssl hangs");
        assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + output);
    }

    /** Maven runs tests in {@code proxy-server/}; the repository root holds {@code etc/}. */
    static Path repositoryRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isRegularFile(p.resolve("etc/demo.conf"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new AssertionError("no etc/demo.conf above " + Path.of("").toAbsolutePath());
        }
        return p;
    }
}
