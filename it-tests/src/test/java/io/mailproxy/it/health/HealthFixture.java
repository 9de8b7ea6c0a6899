package io.mailproxy.it.health;

import io.mailproxy.it.ProxyFixture;
import io.mailproxy.it.FreePorts;
import io.mailproxy.MailProxy;
import io.mailproxy.backend.Server;
import io.mailproxy.checks.CheckResult;
import io.mailproxy.checks.ServerHealth;
import io.mailproxy.dovecot.Dovecot;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Helpers for the health-check integration tests: proxy from HOCON, mail clients, waiting. */
final class HealthFixture {

    /**
     * Clients connect from this address, so that their sessions show in Dovecot's log as
     * {@code rip=127.0.0.2} (mailproxy's PROXY header carries it) while the checks' own
     * connections (LOCAL header: Dovecot uses the socket's addresses) show as {@code rip=127.0.0.1}.
     */
    static final String CLIENT_ADDRESS = "127.0.0.2";

    private HealthFixture() {
    }

    /** Starts mailproxy from {@code config} (a whole file) written to {@code dir/mailproxy.conf}. */
    static MailProxy proxy(Path dir, String config) {
        Path file = dir.resolve("mailproxy.conf");
        return ProxyFixture.startFrom(file, config);
    }

    /** A port free now on 127.0.0.1 (the kernel's choice; closed again at once). */
    static int freePort() {
        return FreePorts.next();
    }

    /**
     * One client session through mailproxy on {@code port}: reads the server's greeting, says
     * goodbye the protocol's way, and returns the greeting (proof that a server answered).
     */
    static String greet(int port, String protocol) {
        try (Socket socket = new Socket()) {
            socket.bind(new InetSocketAddress(CLIENT_ADDRESS, 0));
            socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            socket.setSoTimeout(15_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            String greeting = in.readLine();
            OutputStream out = socket.getOutputStream();
            out.write((protocol.equals("imap") ? "a1 LOGOUT\r\n" : "QUIT\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            while (in.readLine() != null) {
                // until the server closes after its goodbye
            }
            return greeting;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What a greeting starts with when a Dovecot served the session. */
    static Pattern servedGreeting(String protocol) {
        return Pattern.compile(switch (protocol) {
            case "imap" -> "^\\* OK ";
            case "pop3" -> "^\\+OK ";
            default -> "^220 ";
        });
    }

    /** Polls until {@code condition} holds; returns the nanoTime when it did. */
    static long await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeout + ": " + what);
            }
            Thread.sleep(10);
        }
        return System.nanoTime();
    }

    /**
     * Whether every server given is UP and its last check passed: its health is then at the top, so
     * that {@code fall} failures in a row, no fewer, take it DOWN.
     */
    static boolean checkedUp(List<Server> servers, MailProxy proxy) {
        return servers.stream().allMatch(s -> {
            CheckResult last = proxy.healthChecks().health(s).lastResult();
            return s.isUp() && last != null && last.passed();
        });
    }

    /** How many check results a server has had so far ({@link ServerHealth#results()}). */
    static long results(MailProxy proxy, Server server) {
        return proxy.healthChecks().health(server).results();
    }

    /** Log lines from index {@code from} on. */
    static List<String> linesSince(Dovecot dc, int from) {
        List<String> all = dc.logLines();
        return all.subList(Math.min(from, all.size()), all.size());
    }

    /** Log lines {@code from} (inclusive) to {@code to} (exclusive), as counted at two moments. */
    static List<String> linesBetween(Dovecot dc, int from, int to) {
        List<String> all = dc.logLines();
        return all.subList(Math.min(from, all.size()), Math.min(to, all.size()));
    }

    /**
     * The UP/DOWN lines the checks log, each with the number of the check result that caused it:
     * read while the line is logged, on the event loop that counted the result. Tests bound
     * transitions in checks, not in milliseconds, which a loaded machine cannot keep.
     */
    static final class Transitions extends Handler implements AutoCloseable {
        private static final Logger CHECKS = Logger.getLogger(ServerHealth.class.getName());
        private static final Pattern LINE = Pattern.compile("^Server ([^/ ]+)/(\\S+) is (UP|DOWN)");

        /** One transition. */
        record Transition(String backend, String server, boolean up, long result, String line) {
        }

        private final MailProxy proxy;
        private final List<Transition> seen = new ArrayList<>();

        private Transitions(MailProxy proxy) {
            this.proxy = proxy;
        }

        /** Records the transitions of {@code proxy}'s servers from now on, until closed. */
        static Transitions record(MailProxy proxy) {
            Transitions t = new Transitions(proxy);
            CHECKS.addHandler(t);
            return t;
        }

        @Override
        public void publish(LogRecord record) {
            Matcher m = LINE.matcher(record.getMessage());
            if (!m.find()) {
                return;
            }
            Server server = proxy.backends().get(m.group(1)).server(m.group(2));
            Transition t = new Transition(m.group(1), m.group(2), m.group(3).equals("UP"), results(proxy, server),
                    record.getMessage());
            synchronized (seen) {
                seen.add(t);
            }
        }

        /** Every transition so far. */
        List<Transition> all() {
            synchronized (seen) {
                return List.copyOf(seen);
            }
        }

        /** Whether a transition of a server to {@code up} (or down) was logged. */
        boolean has(String backend, String server, boolean up) {
            return all().stream().anyMatch(t -> t.backend().equals(backend) && t.server().equals(server) && t.up() == up);
        }

        /** The last transition of a server to {@code up} (or down); fails when there is none. */
        Transition last(String backend, String server, boolean up) {
            List<Transition> all = all();
            for (int i = all.size() - 1; i >= 0; i--) {
                Transition t = all.get(i);
                if (t.backend().equals(backend) && t.server().equals(server) && t.up() == up) {
                    return t;
                }
            }
            throw new AssertionError("no " + (up ? "UP" : "DOWN") + " line of " + backend + "/" + server + " in " + all);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            CHECKS.removeHandler(this);
        }
    }
}
