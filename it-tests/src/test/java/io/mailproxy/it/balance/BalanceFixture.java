package io.mailproxy.it.balance;

import io.mailproxy.it.ProxyFixture;
import io.mailproxy.it.FreePorts;
import io.mailproxy.MailProxy;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;

/** mailproxy from HOCON in front of {@link FakeMailServer}s, and plain clients that read the greeting. */
final class BalanceFixture {

    private BalanceFixture() {
    }

    /**
     * Starts mailproxy with one plaintext IMAP frontend on {@code port} and backend {@code pool}
     * over {@code servers} (s1, s2... in order), with {@code backendKeys} (e.g. the balance) added.
     * No PROXY header: the fake servers do not read one.
     */
    static MailProxy proxy(Path dir, int port, String backendKeys, List<FakeMailServer> servers, int... weights) {
        StringBuilder list = new StringBuilder();
        for (int i = 0; i < servers.size(); i++) {
            list.append("      { name = s").append(i + 1).append(", address = \"127.0.0.1:").append(servers.get(i).port())
                    .append("\", weight = ").append(weights.length == 0 ? 1 : weights[i]).append(" }\n");
        }
        String config = """
                mailproxy {
                  frontends { imap { bind = ["127.0.0.1:%d"], protocol = imap, backend = pool } }
                  backends { pool {
                    %s
                    send-proxy = none
                    servers = [
                %s    ]
                  } }
                }
                """.formatted(port, backendKeys, list);
        Path file = dir.resolve("mailproxy" + System.nanoTime() + ".conf");
        return ProxyFixture.startFrom(file, config);
    }

    /** A port free now on 127.0.0.1 (the kernel's choice; closed again at once). */
    static int freePort() {
        return FreePorts.next();
    }

    /** Connects to mailproxy on {@code port} and reads the server's greeting line (without CRLF). */
    static Socket connect(int port, StringBuilder greeting) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
        s.setSoTimeout(10_000);
        InputStream in = s.getInputStream();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            line.write(b);
        }
        greeting.append(line.toString(StandardCharsets.US_ASCII).strip());
        return s;
    }

    /** Waits until {@code condition} holds, up to {@code timeout}; returns whether it did. */
    static boolean await(BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }
}
