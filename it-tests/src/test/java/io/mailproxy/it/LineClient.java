package io.mailproxy.it;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A blocking client for the line protocols (IMAP, POP3, LMTP) that reads bytes exactly as they
 * came, so that literals can be compared byte for byte.
 */
class LineClient implements Closeable {

    /** An IMAP line that announces a literal: {@code ... {1234}} at its end. */
    private static final Pattern LITERAL = Pattern.compile("\\{(\\d+)}$");

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private long bytesReceived;
    private long bytesSent;

    LineClient(Socket socket) throws IOException {
        this.socket = socket;
        InputStream raw = socket.getInputStream();
        // Counted below the buffer: what came over the connection, read ahead or not.
        this.in = new BufferedInputStream(new FilterInputStream(raw) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b >= 0) {
                    bytesReceived++;
                }
                return b;
            }

            @Override
            public int read(byte[] buf, int off, int len) throws IOException {
                int n = super.read(buf, off, len);
                if (n > 0) {
                    bytesReceived += n;
                }
                return n;
            }
        });
        this.out = socket.getOutputStream();
    }

    /** Bytes read from the connection so far (application bytes: after TLS). */
    long bytesReceived() {
        return bytesReceived;
    }

    /** Bytes written to the connection so far (application bytes: before TLS). */
    long bytesSent() {
        return bytesSent;
    }

    int localPort() {
        return socket.getLocalPort();
    }

    /** One line without its CRLF, or null at the end of the stream. */
    String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            line.write(b);
        }
        if (b < 0 && line.size() == 0) {
            return null;
        }
        String s = line.toString(StandardCharsets.UTF_8);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    /** Everything until the server closes the connection. */
    byte[] readToEnd() throws IOException {
        return in.readAllBytes();
    }

    void send(String line) throws IOException {
        write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
    }

    /** Bytes as they are (a PROXY header, say). */
    void write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        bytesSent += bytes.length;
    }

    /** Sends an IMAP command and returns every line up to and including the tagged reply. */
    List<String> imap(String tag, String command) throws IOException {
        send(tag + " " + command);
        List<String> lines = new ArrayList<>();
        String line;
        while ((line = readLine()) != null) {
            lines.add(line);
            if (line.startsWith(tag + " ")) {
                return lines;
            }
        }
        throw new EOFException("connection closed before the tagged reply to " + command + ": " + lines);
    }

    /**
     * Sends an IMAP FETCH of one body section and returns the literal's bytes exactly; the tagged
     * reply must be OK.
     */
    byte[] fetchLiteral(String tag, String command) throws IOException {
        send(tag + " " + command);
        byte[] literal = null;
        List<String> lines = new ArrayList<>();
        String line;
        while ((line = readLine()) != null) {
            lines.add(line);
            Matcher m = LITERAL.matcher(line);
            if (literal == null && line.startsWith("* ") && m.find()) {
                literal = in.readNBytes(Integer.parseInt(m.group(1)));
            } else if (line.startsWith(tag + " ")) {
                if (!line.startsWith(tag + " OK") || literal == null) {
                    throw new IOException(command + " failed: " + lines);
                }
                return literal;
            }
        }
        throw new EOFException("connection closed before the tagged reply to " + command + ": " + lines);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
