package io.mailproxy.it.stats;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.it.FreePorts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code log { target = syslog }} received by a real rsyslog (Debian's), started here on a loopback
 * UDP port and on a unix datagram socket of its own: mailproxy runs as its own process
 * ({@code mailproxy run}, logging is process-wide), a client makes a session, and rsyslog writes
 * what it received, raw and as it parsed it (facility, severity, tag, message).
 */
class SyslogTest {

    @TempDir
    Path dir;

    /** rsyslog's raw message for a session line in RFC 5424: {@code <PRI>1 TIME HOST mailproxy PID - - LINE}. */
    private static final Pattern RFC5424 = Pattern.compile(
            "<(\\d+)>1 \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}[+-Z][0-9:]* \\S+ mailproxy \\d+ - - "
                    + "127\\.0\\.0\\.1:\\d+ \\[[^\\]]+\\] imap pool/dc1 .* no-server.*");
    /** ... and in RFC 3164: {@code <PRI>Mmm dd hh:mm:ss HOST mailproxy[PID]: LINE}. */
    private static final Pattern RFC3164 = Pattern.compile(
            "<(\\d+)>[A-Z][a-z]{2} [ 0-9]\\d \\d\\d:\\d\\d:\\d\\d \\S+ mailproxy\\[\\d+\\]: "
                    + "127\\.0\\.0\\.1:\\d+ \\[[^\\]]+\\] imap pool/dc1 .* no-server.*");

    private Process rsyslog(Path conf) throws IOException {
        Path pid = dir.resolve("rsyslog.pid");
        return new ProcessBuilder("rsyslogd", "-n", "-f", conf.toString(), "-i", pid.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("rsyslogd.out").toFile()).start();
    }

    private Process mailproxy(String logBlock) throws IOException {
        port = FreePorts.next();
        Path conf = Files.writeString(dir.resolve("mailproxy.conf"), """
                mailproxy {
                  run-as-root = true
                  log { %s }
                  frontends { imap { bind = ["127.0.0.1:%d"], protocol = imap, backend = pool } }
                  backends { pool { retries = 0, servers = [{ name = dc1, address = "127.0.0.1:%d" }] } }
                }
                """.formatted(logBlock, port, FreePorts.next()));
        String java = ProcessHandle.current().info().command().orElse("java");
        return new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "io.mailproxy.Main", "run",
                "--config", conf.toString()).redirectErrorStream(true).redirectOutput(dir.resolve("mailproxy.out").toFile())
                .start();
    }

    private int port;

    /** One session through mailproxy, if it listens; it ends as no-server (its server is a closed port). */
    private void oneSession() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            s.setSoTimeout(10_000);
            s.getInputStream().readAllBytes();
        } catch (IOException e) {
            // not listening yet: the next round tries again
        }
    }

    /**
     * Makes sessions until rsyslog has written a line matching {@code line} to {@code file} (a
     * datagram sent before rsyslog listens is lost, as with any syslog), then returns the file.
     */
    private String received(Path file, Pattern line) {
        try {
            awaitLine(file, line);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\nmailproxy: " + read(dir.resolve("mailproxy.out")) + "\nrsyslogd: "
                    + read(dir.resolve("rsyslogd.out")) + "\nreceived: " + read(file), e);
        }
        return read(file);
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "(none)";
        } catch (IOException e) {
            return e.toString();
        }
    }

    private void awaitLine(Path file, Pattern line) {
        StatsFixture.await("rsyslog writes a session line to " + file, () -> {
            oneSession();
            try {
                return Files.exists(file) && Files.readAllLines(file).stream().anyMatch(l -> line.matcher(l).matches());
            } catch (IOException e) {
                return false;
            }
        });
    }

    private static void stop(Process p) throws InterruptedException {
        if (p != null) {
            p.destroy();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    @Test
    void rfc5424OverUdp() throws Exception {
        int udp = FreePorts.next();
        Path raw = dir.resolve("raw.log");
        Path parsed = dir.resolve("parsed.log");
        Path conf = Files.writeString(dir.resolve("rsyslog.conf"), """
                global(workDirectory="%s")
                module(load="imudp")
                input(type="imudp" address="127.0.0.1" port="%d")
                template(name="raw" type="string" string="%%rawmsg%%\\n")
                template(name="parsed" type="string" string="%%syslogfacility-text%% %%syslogseverity-text%% %%app-name%% %%msg%%\\n")
                *.* action(type="omfile" file="%s" template="raw")
                *.* action(type="omfile" file="%s" template="parsed")
                """.formatted(dir, udp, raw, parsed));
        Process r = rsyslog(conf);
        Process m = null;
        try {
            m = mailproxy("target = syslog, address = \"127.0.0.1:" + udp + "\", facility = local3, format = rfc5424");
            String rawLines = received(raw, RFC5424);
            // local3 (19) * 8 + warning (4) = 156: no-server is logged at WARNING
            assertTrue(rawLines.lines().anyMatch(l -> RFC5424.matcher(l).matches() && l.startsWith("<156>1 ")), rawLines);
            String parsedLines = Files.readString(parsed);
            assertTrue(parsedLines.lines().anyMatch(l -> l.startsWith("local3 warning mailproxy ")
                    && l.contains(" imap pool/dc1 ") && l.contains("no-server")), parsedLines);
            assertTrue(parsedLines.lines().anyMatch(l -> l.startsWith("local3 warning mailproxy ") && !l.contains("MailProxy")),
                    "the session line is the message itself: " + parsedLines);
            // negative control: not in the other format
            assertFalse(rawLines.lines().anyMatch(l -> RFC3164.matcher(l).matches()));
            assertTrue(Files.readString(dir.resolve("mailproxy.out")).isBlank(), "nothing on stdout");
        } finally {
            stop(m);
            stop(r);
        }
    }

    @Test
    void rfc3164OnAUnixSocket() throws Exception {
        Path socket = dir.resolve("log.sock");
        Path raw = dir.resolve("raw.log");
        Path conf = Files.writeString(dir.resolve("rsyslog.conf"), """
                global(workDirectory="%s")
                module(load="imuxsock" SysSock.Use="off")
                input(type="imuxsock" Socket="%s" CreatePath="on")
                template(name="raw" type="string" string="%%rawmsg%%\\n")
                *.* action(type="omfile" file="%s" template="raw")
                """.formatted(dir, socket, raw));
        Process r = rsyslog(conf);
        Process m = null;
        try {
            StatsFixture.await("rsyslog's socket", () -> Files.exists(socket) || !r.isAlive());
            m = mailproxy("target = syslog, address = \"" + socket + "\", facility = mail, format = rfc3164, tag = mailproxy");
            String rawLines = received(raw, RFC3164);
            // mail (2) * 8 + warning (4) = 20
            assertTrue(rawLines.lines().anyMatch(l -> RFC3164.matcher(l).matches() && l.startsWith("<20>")), rawLines);
            assertFalse(rawLines.lines().anyMatch(l -> RFC5424.matcher(l).matches()), "negative control");
        } finally {
            stop(m);
            stop(r);
        }
    }
}
