package io.mailproxy.dovecot;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;

/**
 * Checks that one listener not only accepts TCP but answers with its protocol's greeting.
 *
 * <p>A bare connect proves little: the master binds every listener before any login process runs,
 * so a crashing imap-login still accepts connections. A haproxy listener gets a v2 LOCAL header
 * first, as a load balancer's health check sends; Dovecot then serves the connection with the
 * socket's own addresses.
 *
 * <p>Probes connect from {@value #SOURCE_ADDRESS} when Dovecot listens on IPv4 loopback (Linux
 * routes all of 127/8 to {@code lo}), so each leaves one short, user-less session with
 * {@code rip=127.0.0.254} in the log: a test can tell it from its clients (127.0.0.2 and up) and
 * from a proxy's health checks (127.0.0.1), which a probe from the listen address could not.
 *
 * <p>A haproxy listener that closes at once also counts as up: it does so when the probe's address
 * is outside {@code haproxy_trusted_networks} (logging "haproxy: Client not trusted"), and only a
 * running login process can have accepted and closed the connection.
 */
final class DovecotProbe {

    /** PROXY v2 signature, ver_cmd 0x20 (v2 LOCAL), fam 0x00 (UNSPEC), length 0. */
    private static final byte[] V2_LOCAL = {
            0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
            0x20, 0x00, 0x00, 0x00};

    /** The address probes connect from, reserved for them. */
    static final String SOURCE_ADDRESS = "127.0.0.254";

    private static final int CONNECT_TIMEOUT_MS = 500;
    private static final int READ_TIMEOUT_MS = 2000;

    /** What a listener says first and how to leave politely. */
    enum Protocol {
        IMAP("* OK", "a LOGOUT\r\n"),
        POP3("+OK", "QUIT\r\n"),
        LMTP("220 ", "QUIT\r\n");

        final String greeting;
        final String quit;

        Protocol(String greeting, String quit) {
            this.greeting = greeting;
            this.quit = quit;
        }
    }

    private DovecotProbe() {
    }

    /** Returns null when the listener answered, else what went wrong (for the timeout message). */
    static String check(InetSocketAddress address, Protocol protocol, boolean haproxy) {
        try (Socket socket = new Socket()) {
            InetAddress to = address.getAddress();
            if (to instanceof Inet4Address && to.isLoopbackAddress()) {
                socket.bind(new InetSocketAddress(InetAddress.getByName(SOURCE_ADDRESS), 0));
            }
            socket.connect(address, CONNECT_TIMEOUT_MS);
            socket.setSoTimeout(READ_TIMEOUT_MS);
            OutputStream out = socket.getOutputStream();
            if (haproxy) {
                out.write(V2_LOCAL);
                out.flush();
            }
            String line = readLine(socket.getInputStream());
            if (line == null && haproxy) {
                return null;
            }
            if (line == null || !line.startsWith(protocol.greeting)) {
                return "port " + address.getPort() + " answered '" + line + "', expected '" + protocol.greeting + "...'";
            }
            out.write(protocol.quit.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // Wait for the server to close, so its session ends with a logout line rather than a reset.
            socket.getInputStream().readAllBytes();
            return null;
        } catch (IOException e) {
            return "port " + address.getPort() + ": " + e;
        }
    }

    /** The first line, or null if the server closed (or reset) before sending anything. */
    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int b;
        try {
            while ((b = in.read()) >= 0 && b != '\n' && line.length() < 1000) {
                if (b != '\r') {
                    line.append((char) b);
                }
            }
        } catch (SocketException e) {
            if (line.length() == 0) {
                return null;
            }
            throw e;
        }
        return b < 0 && line.length() == 0 ? null : line.toString();
    }
}
