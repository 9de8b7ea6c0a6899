package io.mailproxy.it.stats;

import io.mailproxy.MailProxy;
import io.mailproxy.dovecot.Dovecot;
import io.mailproxy.it.FreePorts;
import io.mailproxy.it.ProxyFixture;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * mailproxy in front of two real Dovecots ({@code dc1}, {@code dc2}) in one backend {@code pool},
 * with its stats listener and runtime API on, and the clients the stats tests use: IMAP sessions
 * from chosen loopback addresses (the greeting names the Dovecot that answered), {@code socat} for
 * the runtime API as admins use it, and HTTP for the stats listener.
 */
final class StatsFixture implements AutoCloseable {

    static final String USER = "admin";
    static final String PASSWORD = "s3cret-stats";
    private static final Pattern GREETING = Pattern.compile("Dovecot ready \\((dc\\d)\\)\\.");
    static final Duration WAIT = Duration.ofSeconds(20);

    final MailProxy proxy;
    final int imapPort;
    final int statsPort;
    final Path socket;

    private StatsFixture(MailProxy proxy, int imapPort, int statsPort, Path socket) {
        this.proxy = proxy;
        this.imapPort = imapPort;
        this.statsPort = statsPort;
        this.socket = socket;
    }

    /**
     * mailproxy in front of {@code dc1} and {@code dc2}: balance roundrobin, a stick table, and
     * {@code backendExtra} inside the backend (e.g. a health check).
     */
    static StatsFixture start(Path dir, Dovecot dc1, Dovecot dc2, String backendExtra) {
        int imap = FreePorts.next();
        int stats = FreePorts.next();
        Path socket = dir.resolve("admin-" + imap + ".sock");
        String config = """
                mailproxy {
                  io-threads = 2
                  frontends { imap { bind = ["127.0.0.1:%d"], protocol = imap, backend = pool } }
                  backends {
                    pool {
                      balance = roundrobin
                      stick-table { size = 1k, expire = 30m }
                      servers = [
                        { name = dc1, address = "127.0.0.1:%d" }
                        { name = dc2, address = "127.0.0.1:%d" }
                      ]
                      %s
                    }
                  }
                  stats { bind = "127.0.0.1:%d", auth = [{ user = %s, password = "%s" }], admin = true, refresh = 0s }
                  admin-socket { path = "%s", mode = "0600" }
                }
                """.formatted(imap, dc1.ports().imapHaproxy(), dc2.ports().imapHaproxy(), backendExtra, stats, USER,
                PASSWORD, socket);
        MailProxy proxy = ProxyFixture.startFrom(dir.resolve("stats-" + imap + ".conf"), config);
        return new StatsFixture(proxy, imap, stats, socket);
    }

    /** Starts Dovecots {@code dc1} and {@code dc2} side by side (each takes about a second). */
    static List<Dovecot> startDovecots() throws InterruptedException {
        Dovecot[] second = new Dovecot[1];
        Thread t = new Thread(() -> second[0] = Dovecot.start("dc2"));
        t.start();
        Dovecot first = Dovecot.start("dc1");
        t.join();
        if (second[0] == null) {
            first.close();
            throw new IllegalStateException("Dovecot dc2 did not start");
        }
        return List.of(first, second[0]);
    }

    static void stop(List<Dovecot> dovecots) {
        if (dovecots != null) {
            dovecots.forEach(Dovecot::close);
        }
    }

    /** Sends {@code command} to the runtime API with {@code socat}, as an admin would; returns the answer. */
    String socat(String command) {
        return run(List.of("socat", "stdio", "unix-connect:" + socket), command + "\n");
    }

    static String run(List<String> command, String input) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            try (OutputStream in = p.getOutputStream()) {
                in.write(input.getBytes(StandardCharsets.UTF_8));
            }
            byte[] out;
            try (InputStream o = p.getInputStream()) {
                out = o.readAllBytes();
            }
            if (!p.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(command + " did not end");
            }
            return new String(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** An open IMAP session through mailproxy from {@code clientIp}; its greeting is read. */
    final class Imap implements AutoCloseable {
        final Socket socket;
        final BufferedReader in;
        final OutputStream out;
        final String server;
        long sent;
        long received;

        Imap(String clientIp) throws IOException {
            socket = new Socket();
            socket.bind(new InetSocketAddress(InetAddress.getByName(clientIp), 0));
            socket.connect(new InetSocketAddress("127.0.0.1", imapPort), 5000);
            socket.setSoTimeout((int) WAIT.toMillis());
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
            out = socket.getOutputStream();
            String greeting = line();
            Matcher m = GREETING.matcher(greeting == null ? "" : greeting);
            if (!m.find()) {
                throw new AssertionError("not a Dovecot greeting: " + greeting);
            }
            server = m.group(1);
        }

        String line() throws IOException {
            String l = in.readLine();
            if (l != null) {
                received += l.length() + 2;
            }
            return l;
        }

        void send(String line) throws IOException {
            byte[] b = (line + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
            out.write(b);
            out.flush();
            sent += b.length;
        }

        /** LOGOUT and read until the server closes; returns the lines read. */
        List<String> logout() throws IOException {
            send("a LOGOUT");
            List<String> lines = new ArrayList<>();
            for (String l; (l = line()) != null; ) {
                lines.add(l);
            }
            return lines;
        }

        /** Reads until the connection ends; null when it ended, else the line read. */
        String readEnd() throws IOException {
            return line();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** A greeting and a logout from {@code clientIp}; returns the Dovecot that answered. */
    String session(String clientIp) {
        try (Imap s = new Imap(clientIp)) {
            s.logout();
            return s.server;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Imap open(String clientIp) throws IOException {
        return new Imap(clientIp);
    }

    /** GET {@code path} of the stats listener, with the admin's credentials or none. */
    HttpResponse<String> get(String path, boolean authenticated) {
        try {
            HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + statsPort + path))
                    .timeout(WAIT);
            if (authenticated) {
                r.header("Authorization", basic());
            }
            return HttpClient.newHttpClient().send(r.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static String basic() {
        return "Basic " + Base64.getEncoder().encodeToString((USER + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8));
    }

    /** Waits until {@code condition} holds, checking every 20 ms, for at most {@link #WAIT}. */
    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    /** A field of a row of an HAProxy-style CSV, read by the header's column names. */
    static String csvField(String csv, String pxname, String svname, String field) {
        String[] lines = csv.split("\n");
        List<String> header = List.of(lines[0].substring(2).split(",", -1));
        int col = header.indexOf(field);
        if (col < 0) {
            throw new AssertionError("no column " + field);
        }
        for (String line : lines) {
            String[] v = line.split(",", -1);
            if (v.length > col && v[0].equals(pxname) && v[1].equals(svname)) {
                return v[col];
            }
        }
        throw new AssertionError("no row " + pxname + "/" + svname + " in\n" + csv);
    }

    @Override
    public void close() {
        proxy.close();
    }
}
