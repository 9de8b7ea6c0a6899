package io.mailproxy.it;

import io.mailproxy.MailProxy;
import io.mailproxy.config.ConfigLoader;
import io.mailproxy.config.ConfigurationException;
import io.mailproxy.tls.GeneratedCertificate;
import io.mailproxy.tls.SelfSignedCertificates;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * mailproxy started in this JVM the way {@code mailproxy run FILE} starts it: from a HOCON file,
 * through {@link ConfigLoader}, so the tests also cover what a user's file goes through.
 */
public final class ProxyFixture implements AutoCloseable {

    private final MailProxy proxy;

    private ProxyFixture(MailProxy proxy) {
        this.proxy = proxy;
    }

    /**
     * Writes {@code config} (a whole file, {@code mailproxy { ... }}) to {@code dir/name.conf} and
     * starts mailproxy from it.
     */
    static ProxyFixture start(Path dir, String name, String config) {
        return new ProxyFixture(startFrom(dir.resolve(name + ".conf"), config));
    }

    /**
     * Writes {@code config} (a whole file) to {@code file} and starts mailproxy from it; a
     * configuration mailproxy refuses fails the test with its messages and the file.
     */
    public static MailProxy startFrom(Path file, String config) {
        try {
            Files.writeString(file, config, StandardCharsets.UTF_8);
            return MailProxy.start(ConfigLoader.load(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        } catch (ConfigurationException e) {
            throw new AssertionError("mailproxy refused the test configuration:\n" + e.getMessage() + "\n" + config, e);
        }
    }

    /** A self-signed certificate for {@code localhost} and {@code 127.0.0.1} in {@code dir/tls}. */
    static GeneratedCertificate certificate(Path dir) {
        return SelfSignedCertificates.selfSigned(dir.resolve("tls"), "localhost", "127.0.0.1");
    }

    /** A frontend's {@code tls} block for implicit TLS with that certificate. */
    static String implicitTls(GeneratedCertificate cert) {
        return "tls { mode = implicit, certificates = [{ cert = \"" + cert.certFile() + "\", key = \""
                + cert.keyFile() + "\" }] }";
    }

    /** A frontend on {@code 127.0.0.1:port}. */
    static String frontend(String name, int port, String protocol, String backend, String tls) {
        return name + " { bind = [\"127.0.0.1:" + port + "\"], protocol = " + protocol + ", backend = " + backend
                + (tls.isEmpty() ? "" : ", " + tls) + " }\n";
    }

    /** A server entry for a backend's {@code servers} list. */
    static String server(String name, int port) {
        return "{ name = " + name + ", address = \"127.0.0.1:" + port + "\" }";
    }

    MailProxy proxy() {
        return proxy;
    }

    @Override
    public void close() {
        proxy.close();
    }
}
