package io.mailproxy.it;

import io.mailproxy.tls.GeneratedCertificate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * How the tests' clients connect: from 127.0.0.2, so that an address seen by Dovecot ({@code rip=})
 * or logged by mailproxy can only have come from the client and not from mailproxy's own
 * connections (which leave from 127.0.0.1).
 */
public final class Clients {

    /** The clients' source address; Linux routes all of 127.0.0.0/8 to the loopback interface. */
    static final String CLIENT_IP = "127.0.0.2";
    static final String PROXY_HOST = "127.0.0.1";
    private static final int CONNECT_TIMEOUT_MS = 5_000;
    /** No single read in these tests waits longer than this for Dovecot or mailproxy. */
    static final int READ_TIMEOUT_MS = 15_000;

    private Clients() {
    }

    static InetAddress clientAddress() {
        return address(CLIENT_IP);
    }

    static InetAddress proxyAddress() {
        return address(PROXY_HOST);
    }

    private static InetAddress address(String ip) {
        try {
            return InetAddress.getByName(ip);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(ip + " is an IP literal", e);
        }
    }

    /** A TLS context that trusts exactly the test certificate, as a client configured with its CA would. */
    public static SSLContext trusting(GeneratedCertificate cert) {
        try {
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            trust.setCertificateEntry("mailproxy-test", cert.ca());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build a trust store from the test certificate", e);
        }
    }

    /** A plain TCP connection from {@link #CLIENT_IP} to {@code 127.0.0.1:port}. */
    static Socket plain(int port) {
        Socket socket = new Socket();
        try {
            socket.bind(new InetSocketAddress(clientAddress(), 0));
            socket.connect(new InetSocketAddress(proxyAddress(), port), CONNECT_TIMEOUT_MS);
            socket.setSoTimeout(READ_TIMEOUT_MS);
            return socket;
        } catch (IOException e) {
            closeQuietly(socket);
            throw new UncheckedIOException("cannot connect to 127.0.0.1:" + port, e);
        }
    }

    /**
     * An implicit-TLS connection from {@link #CLIENT_IP}, with the handshake done and the server's
     * name ({@code localhost}, also sent as SNI) checked against the certificate.
     */
    static SSLSocket tls(SSLContext ctx, int port) {
        Socket raw = plain(port);
        try {
            SSLSocket socket = (SSLSocket) ctx.getSocketFactory().createSocket(raw, "localhost", port, true);
            SSLParameters params = socket.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            socket.setSSLParameters(params);
            socket.startHandshake();
            return socket;
        } catch (IOException e) {
            closeQuietly(raw);
            throw new UncheckedIOException("TLS handshake with 127.0.0.1:" + port + " failed", e);
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // Already failing; the first error is the one worth reporting.
        }
    }
}
