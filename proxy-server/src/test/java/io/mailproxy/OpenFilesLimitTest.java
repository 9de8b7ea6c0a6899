package io.mailproxy;

import static io.mailproxy.session.ScriptedServer.readLine;
import static io.mailproxy.session.ScriptedServer.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.session.ProxyRunner;
import io.mailproxy.session.ScriptedServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mailproxy run} under {@code ulimit -n 400} with 500 clients: by default its
 * {@code max-connections} fits the limit (logged at start), the excess waits in the backlog and
 * nothing fails; with no limit configured it runs out of descriptors, says so once and what to
 * change, never floods its log, and accepts again by itself once clients leave.
 */
class OpenFilesLimitTest {

    private static final int CLIENTS = 500;

    @TempDir
    Path dir;

    private MailproxyProcess start(String maxConnections, int port, int serverPort) throws IOException {
        Path config = Files.writeString(dir.resolve("limit.conf"), """
                mailproxy {
                  run-as-root = true
                  max-connections = %s
                  frontends { imap { bind = ["127.0.0.1:%d"], backend = pool } }
                  backends { pool { send-proxy = none, servers = [ { name = s1, address = "127.0.0.1:%d" } ] } }
                }
                """.formatted(maxConnections, port, serverPort));
        MailproxyProcess p = MailproxyProcess.start(config, true, "ulimit -n 400", jarredClasspath());
        assertTrue(p.awaitLine("mailproxy started", Duration.ofSeconds(30)), p.output());
        return p;
    }

    /**
     * The test's class path with each directory packed into a jar, as mailproxy runs in production
     * (one jar, opened once): a process out of descriptors cannot open a class file from a
     * directory, but reads classes from a jar it holds open.
     */
    private String jarredClasspath() throws IOException {
        List<String> entries = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path path = Path.of(entry);
            if (!Files.isDirectory(path)) {
                entries.add(entry);
                continue;
            }
            Path jar = dir.resolve("classes-" + entries.size() + ".jar");
            try (java.util.jar.JarOutputStream out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar));
                 java.util.stream.Stream<Path> files = Files.walk(path)) {
                for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                    out.putNextEntry(new java.util.jar.JarEntry(path.relativize(f).toString().replace('\\', '/')));
                    Files.copy(f, out);
                    out.closeEntry();
                }
            }
            entries.add(jar.toString());
        }
        return String.join(java.io.File.pathSeparator, entries);
    }

    private static List<Socket> connectAll(int port) throws IOException {
        List<Socket> clients = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            Socket s = new Socket();
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            clients.add(s);
        }
        return clients;
    }

    private static void stop(MailproxyProcess p) throws Exception {
        p.signal("TERM");
        assertTrue(p.process.waitFor(30, TimeUnit.SECONDS));
    }

    @Test
    void byDefaultMaxConnectionsFitsTheOpenFilesLimit() throws Exception {
        int port = ProxyRunner.freePort();
        try (ScriptedServer server = new ScriptedServer(s -> {
                 write(s, "* OK hello\r\n");
                 ScriptedServer.drain(s);
             })) {
            MailproxyProcess p = start("auto", port, server.port());
            List<String> lines = p.lines;
            try {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("max-connections (\\d+) \\(auto: the open-files"
                        + " limit 400 allows 2 descriptors per session, (\\d+) kept").matcher(String.join("\n", lines));
                assertTrue(m.find(), String.join("\n", lines));
                int max = Integer.parseInt(m.group(1));
                assertEquals((400 - Integer.parseInt(m.group(2))) / 2, max);
                List<Socket> clients = connectAll(port);
                assertTrue(ProxyRunner.await(() -> server.open() == max, Duration.ofSeconds(30)),
                        max + " sessions reached the server, the rest waits: " + server.open() + "\n" + String.join("\n", lines));
                assertFalse(lines.stream().anyMatch(l -> l.contains(" mailproxy.session: ") || l.contains("accepting paused")),
                        "no session failed and made room, never out of descriptors: " + String.join("\n", lines));
                // the first to connect were accepted first: their leaving lets as many more in
                for (Socket c : clients.subList(0, max)) {
                    c.close();
                }
                assertTrue(ProxyRunner.await(() -> server.accepted() >= 2 * max && server.open() == max, Duration.ofSeconds(30)),
                        "the waiting ones are taken as sessions end: " + server.accepted() + "\n" + String.join("\n", lines));
                // (a burst of closes may leave NIO's descriptors open until their selector's next
                // round, so a short pause may be logged while they churn: the other test covers that)
                for (Socket c : clients) {
                    c.close();
                }
            } finally {
                stop(p);
            }
        }
    }

    @Test
    void outOfDescriptorsItSaysSoOnceAndResumesByItself() throws Exception {
        int port = ProxyRunner.freePort();
        try (ScriptedServer server = new ScriptedServer(s -> {
                 write(s, "* OK hello\r\n");
                 ScriptedServer.drain(s);
             })) {
            MailproxyProcess p = start("0", port, server.port());
            List<String> lines = p.lines;
            try {
                assertTrue(lines.stream().anyMatch(l -> l.contains("max-connections 0 (no limit) is more than the open-files limit 400")),
                        String.join("\n", lines));
                List<Socket> clients = connectAll(port);
                assertTrue(ProxyRunner.await(() -> lines.stream().anyMatch(l -> l.contains("accepting paused")),
                        Duration.ofSeconds(30)), String.join("\n", lines));
                for (Socket c : clients) {
                    c.close();
                }
                try (Socket after = new Socket()) {
                    after.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                    after.setSoTimeout(30_000);
                    assertEquals("* OK hello", readLine(after), "accepting resumed by itself");
                } catch (IOException e) {
                    throw new AssertionError(e + "\n" + String.join("\n", lines), e);
                }
                assertEquals(1, lines.stream().filter(l -> l.contains("accepting paused")).count(),
                        "one line, not one a second: " + String.join("\n", lines));
                assertTrue(lines.stream().anyMatch(l -> l.contains("out of file descriptors (open-files limit 400")
                        && l.contains("LimitNOFILE")), String.join("\n", lines));
                assertFalse(lines.stream().anyMatch(l -> l.contains("reached at the tail of the pipeline")),
                        String.join("\n", lines));
            } finally {
                stop(p);
            }
        }
    }
}
