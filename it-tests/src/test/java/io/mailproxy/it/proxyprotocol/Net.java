package io.mailproxy.it.proxyprotocol;

import io.mailproxy.it.FreePorts;
import io.mailproxy.tls.TrustAll;
import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SNIHostName;

/** Small blocking clients and helpers for the PROXY protocol integration tests. */
final class Net {

    private Net() {
    }

    /** A port free at the time of the call (the tests bind it right after). */
    static int freePort() throws IOException {
        return FreePorts.next();
    }

    /** A line client over a plain or TLS socket whose local address is {@code from}. */
    static final class Client implements Closeable {
        final Socket socket;
        private final BufferedReader in;
        private final OutputStream out;

        private Client(Socket socket) throws IOException {
            this.socket = socket;
            socket.setSoTimeout(8000);
            this.in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
            this.out = socket.getOutputStream();
        }

        static Client plain(String from, int port) throws IOException {
            Socket s = new Socket();
            s.bind(new InetSocketAddress(from, 0));
            s.connect(new InetSocketAddress("127.0.0.1", port), 3000);
            return new Client(s);
        }

        /** TLS with SNI {@code mail.example.com}; any certificate is accepted (test certificates). */
        static Client tls(String from, int port) throws Exception {
            SSLContext ctx = TrustAll.context();
            Socket raw = new Socket();
            raw.bind(new InetSocketAddress(from, 0));
            raw.connect(new InetSocketAddress("127.0.0.1", port), 3000);
            SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(raw, "127.0.0.1", port, true);
            SSLParameters p = s.getSSLParameters();
            p.setServerNames(List.of(new SNIHostName("mail.example.com")));
            s.setSSLParameters(p);
            s.startHandshake();
            return new Client(s);
        }

        void write(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
        }

        void send(String line) throws IOException {
            write((line + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        }

        String readLine() throws IOException {
            return in.readLine();
        }

        /** Sends an IMAP command; returns the tagged reply line. */
        String imap(String tag, String command) throws IOException {
            send(tag + " " + command);
            String line;
            while ((line = in.readLine()) != null) {
                if (line.startsWith(tag + " ")) {
                    return line;
                }
            }
            throw new IOException("closed before the reply to " + command);
        }

        /** -1 when the peer closed, else the first byte read (the socket's timeout bounds the wait). */
        int readByte() {
            try {
                return in.read();
            } catch (IOException e) {
                return -1;
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** Records mailproxy's session log lines. */
    static final class LogLines extends Handler {
        private final List<String> lines = new ArrayList<>();

        @Override
        public synchronized void publish(LogRecord record) {
            lines.add(record.getMessage());
            notifyAll();
        }

        synchronized List<String> lines() {
            return List.copyOf(lines);
        }

        /** The first line containing every part, waiting up to {@code millis}. */
        synchronized String await(long millis, String... parts) throws InterruptedException {
            long deadline = System.currentTimeMillis() + millis;
            while (true) {
                for (String l : lines) {
                    boolean all = true;
                    for (String p : parts) {
                        all &= l.contains(p);
                    }
                    if (all) {
                        return l;
                    }
                }
                long left = deadline - System.currentTimeMillis();
                if (left <= 0) {
                    throw new AssertionError("no session log line with " + List.of(parts) + " in " + lines);
                }
                wait(left);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }
}
