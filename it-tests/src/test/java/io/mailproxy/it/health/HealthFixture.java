package io.mailproxy.it.health;

import io.mailproxy.it.ProxyFixture;
import io.mailproxy.it.FreePorts;
import io.mailproxy.MailProxy;
import io.mailproxy.backend.Server;
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
import java.util.List;
import java.util.function.BooleanSupplier;
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

    /** The {@code haproxy = yes} port of {@code dc} for a protocol. */
    static int haproxyPort(Dovecot dc, String protocol) {
        return switch (protocol) {
            case "imap" -> dc.ports().imapHaproxy();
            case "pop3" -> dc.ports().pop3Haproxy();
            case "lmtp" -> dc.ports().lmtpHaproxy();
            default -> throw new IllegalArgumentException(protocol);
        };
    }

    /**
     * One client session through mailproxy on {@code port}: reads the server's greeting, says
     * goodbye the protocol's way, and returns the greeting (proof that a server answered).
     */
    static String greet(int port, String protocol) {
        try (Socket socket = new Socket()) {
            socket.bind(new InetSocketAddress(CLIENT_ADDRESS, 0));
            socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            socket.setSoTimeout(5000);
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

    /** Whether every server given is UP after at least one check result. */
    static boolean checkedUp(List<Server> servers, MailProxy proxy) {
        return servers.stream().allMatch(s -> s.isUp() && proxy.healthChecks().health(s).lastResult() != null);
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
}
