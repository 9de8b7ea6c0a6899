package io.mailproxy.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.session.ProxyRunner;
import io.mailproxy.session.ScriptedServer;
import io.mailproxy.stats.report.StatRow;
import io.mailproxy.stats.report.StatRows;
import io.mailproxy.tls.GeneratedCertificate;
import io.mailproxy.tls.SelfSignedCertificates;
import io.mailproxy.tls.TrustAll;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mail-aware figures HAProxy cannot show, as the statistics' rows report them: TLS handshakes
 * by version and resumption, PROXY header rejections by PRX_* reason, refusals by reason, and LMTP
 * sessions in a transaction.
 */
class MailFiguresTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private static StatRow row(ProxyRunner r, String px, String sv) {
        return StatRows.of(r.proxy).stream().filter(x -> x.pxname().equals(px) && x.svname().equals(sv)).findFirst()
                .orElseThrow();
    }

    private static void await(String what, java.util.function.BooleanSupplier c) {
        assertTrue(ProxyRunner.await(c, WAIT), what);
    }

    /** Reads the greeting over TLS at {@code protocol} and leaves. */
    private static void greeting(SSLContext ctx, int port, String protocol) throws IOException {
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port)) {
            s.setEnabledProtocols(new String[] {protocol});
            s.setSoTimeout((int) WAIT.toMillis());
            assertTrue(ScriptedServer.readLine(s).startsWith("* OK"));
        }
    }

    @Test
    void tlsHandshakesByVersionAndResumption() throws Exception {
        GeneratedCertificate cert = SelfSignedCertificates.selfSigned(dir.resolve("tls"), "localhost");
        try (ScriptedServer server = new ScriptedServer(s -> {
            ScriptedServer.write(s, "* OK hi\r\n");
            ScriptedServer.drain(s);
        }); ProxyRunner r = ProxyRunner.start(dir, """
                frontends { f { bind = ["127.0.0.1:%PORT%"], backend = b, tls { mode = implicit,
                  certificates = [{ cert = "CERT", key = "KEY" }] } } }
                backends { b { send-proxy = none, servers = [{ name = s, address = "127.0.0.1:SERVER" }] } }
                """.replace("CERT", cert.certFile().toString()).replace("KEY", cert.keyFile().toString())
                .replace("SERVER", Integer.toString(server.port())))) {
            SSLContext ctx = TrustAll.context();
            greeting(ctx, r.port, "TLSv1.3");
            greeting(ctx, r.port, "TLSv1.3");
            greeting(TrustAll.context(), r.port, "TLSv1.2");
            await("three handshakes counted", () -> row(r, "f", "FRONTEND").number("ssl_sess") == 3);
            StatRow f = row(r, "f", "FRONTEND");
            assertEquals(2, f.number("mp_tls_v1_3"));
            assertEquals(1, f.number("mp_tls_v1_2"));
            assertEquals(0, f.number("ssl_failed_handshake"));
            assertEquals(1, f.number("ssl_reused_sess"), "the second TLS 1.3 handshake of one client resumed its session");
            // a client that does not finish its handshake: a failure
            try (Socket s = new Socket("127.0.0.1", r.port)) {
                s.getOutputStream().write("not a ClientHello\r\n".getBytes(StandardCharsets.US_ASCII));
                s.setSoTimeout((int) WAIT.toMillis());
                s.getInputStream().readAllBytes();
            } catch (IOException e) {
                // reset by mailproxy: as expected
            }
            await("the failed handshake counted", () -> row(r, "f", "FRONTEND").number("ssl_failed_handshake") == 1);
            assertEquals(3, row(r, "f", "FRONTEND").number("ssl_sess"), "negative control: not counted as done");
        }
    }

    @Test
    void proxyHeaderRejectionsAndRefusalsByReason() throws Exception {
        try (ScriptedServer server = new ScriptedServer(s -> {
            ScriptedServer.write(s, "* OK hi\r\n");
            ScriptedServer.drain(s);
        }); ProxyRunner r = ProxyRunner.start(dir, """
                frontends { f { bind = ["127.0.0.1:%PORT%"], backend = b, rate-limit-per-source = "2/1h",
                  accept-proxy { enabled = true, trusted-networks = ["127.0.0.1"] } } }
                backends { b { send-proxy = none, servers = [{ name = s, address = "127.0.0.1:SERVER" }] } }
                """.replace("SERVER", Integer.toString(server.port())))) {
            send(r.port, "PROXY TCP4 10.0.0.1\r\n");
            send(r.port, "");
            send(r.port, "\r\n\r\n\0\r\nQUIT\n\u0021\u0012\0\u000c");
            await("three rejections", () -> row(r, "f", "FRONTEND").number("mp_prx_empty") == 1
                    && row(r, "f", "FRONTEND").number("ereq") == 2);
            StatRow f = row(r, "f", "FRONTEND");
            long invalid = 0;
            for (var e : io.mailproxy.proxyprotocol.ProxyProtocolError.values()) {
                invalid += f.number("mp_" + e.code().toLowerCase());
            }
            assertEquals(3, invalid, "each rejection under its PRX_* reason");
            assertEquals(0, f.number("mp_refused_rate"));
            for (int i = 0; i < 3; i++) {
                send(r.port, "PROXY TCP4 10.0.0.7 127.0.0.1 5000 143\r\n");
            }
            await("the third session from 10.0.0.7 refused", () -> row(r, "f", "FRONTEND").number("mp_refused_rate") == 1);
            assertEquals(1, row(r, "f", "FRONTEND").number("dreq"));
        }
    }

    private static void send(int port, String text) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout((int) WAIT.toMillis());
            s.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
            s.shutdownOutput();
            s.getInputStream().readAllBytes();
        } catch (IOException e) {
            // reset: the test reads the statistics
        }
    }

    @Test
    void lmtpSessionsInATransaction() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (ScriptedServer server = new ScriptedServer(s -> {
            ScriptedServer.write(s, "220 lmtp ready\r\n");
            String line;
            while ((line = ScriptedServer.readLine(s)) != null) {
                if (line.startsWith("LHLO")) {
                    ScriptedServer.write(s, "250 lmtp\r\n");
                } else if (line.startsWith("MAIL") || line.startsWith("RCPT")) {
                    ScriptedServer.write(s, "250 2.1.0 ok\r\n");
                } else if (line.equals("DATA")) {
                    ScriptedServer.write(s, "354 go ahead\r\n");
                } else if (line.equals(".")) {
                    release.await(WAIT.toSeconds(), TimeUnit.SECONDS);
                    ScriptedServer.write(s, "250 2.0.0 delivered\r\n");
                } else if (line.equals("QUIT")) {
                    ScriptedServer.write(s, "221 bye\r\n");
                    return;
                }
            }
        }); ProxyRunner r = ProxyRunner.start(dir, """
                frontends { f { bind = ["127.0.0.1:%PORT%"], protocol = lmtp, backend = b } }
                backends { b { send-proxy = none, servers = [{ name = s, address = "127.0.0.1:SERVER" }] } }
                """.replace("SERVER", Integer.toString(server.port())));
             Socket c = new Socket("127.0.0.1", r.port)) {
            c.setSoTimeout((int) WAIT.toMillis());
            InputStream in = c.getInputStream();
            OutputStream out = c.getOutputStream();
            assertTrue(ScriptedServer.readLine(c).startsWith("220"));
            assertEquals(0, row(r, "f", "FRONTEND").number("mp_lmtp_in_transaction"), "negative control: greeted, no transaction");
            out.write("LHLO me\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n".getBytes(StandardCharsets.US_ASCII));
            for (int i = 0; i < 4; i++) {
                ScriptedServer.readLine(c);
            }
            out.write("Subject: x\r\n\r\nhello\r\n.\r\n".getBytes(StandardCharsets.US_ASCII));
            await("one LMTP session in a transaction", () -> row(r, "f", "FRONTEND").number("mp_lmtp_in_transaction") == 1);
            assertEquals(1, row(r, "b", "s").number("mp_lmtp_in_transaction"));
            assertEquals(1, row(r, "f", "FRONTEND").number("mp_sess_relaying"));
            release.countDown();
            assertTrue(ScriptedServer.readLine(c).startsWith("250 2.0.0"));
            await("the transaction is over", () -> row(r, "f", "FRONTEND").number("mp_lmtp_in_transaction") == 0);
            out.write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
            assertTrue(ScriptedServer.readLine(c).startsWith("221"));
            assertEquals(-1, in.read());
        }
    }
}
