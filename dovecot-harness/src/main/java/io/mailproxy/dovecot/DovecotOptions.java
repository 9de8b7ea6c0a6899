package io.mailproxy.dovecot;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How to run an instance. Build with {@link #builder()}; every field has a default.
 *
 * @param target which Dovecot and how it runs; by default {@link DovecotTarget#current()}
 * @param name short label: temp dir prefix, {@code instance_name}, IMAP/POP3/LMTP greeting
 * @param baseDir where config, sockets, log and mail go; null for a new temp dir deleted on close
 * @param listenAddress IP address all listeners bind to
 * @param ports listener ports, 0 for a free one
 * @param haproxyTrustedNetworks {@code haproxy_trusted_networks}: who may send a PROXY header
 * @param disablePlaintextAuth refuse LOGIN and USER/PASS on connections Dovecot does not count as
 *        secured. 2.3: {@code disable_plaintext_auth = yes}. 2.4: {@code auth_allow_cleartext = no}
 *        and {@code ssl = required} (with a generated certificate the plaintext listeners never
 *        use), because 2.4 counts every haproxy connection as secured unless {@code ssl = required}
 * @param password the password of every user
 * @param haproxyTimeout {@code haproxy_timeout}, whole seconds
 * @param startTimeout how long a start waits for the listeners (not counting an image build)
 * @param echoLog in a container, also print each log line to standard output, prefixed with the
 *        name (a test's output then shows them); a local process's log is only in its file
 */
public record DovecotOptions(DovecotTarget target, String name, Path baseDir, String listenAddress, DovecotPorts ports,
                             String haproxyTrustedNetworks, boolean disablePlaintextAuth, String password,
                             Duration haproxyTimeout, Duration startTimeout, boolean echoLog) {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,15}");
    /** The value goes unquoted into a Dovecot config line. */
    private static final Pattern CONFIG_WORD = Pattern.compile("[^\\s%\"\\\\#{}]+");

    public DovecotOptions {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(listenAddress, "listenAddress");
        Objects.requireNonNull(ports, "ports");
        Objects.requireNonNull(haproxyTrustedNetworks, "haproxyTrustedNetworks");
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(haproxyTimeout, "haproxyTimeout");
        Objects.requireNonNull(startTimeout, "startTimeout");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("name '" + name + "' must be 1-16 letters, digits, '_', '.' or '-'");
        }
        if (!CONFIG_WORD.matcher(password).matches()) {
            throw new IllegalArgumentException("password must be non-empty, without spaces, %, quotes, # or braces");
        }
        if (!CONFIG_WORD.matcher(listenAddress).matches()) {
            throw new IllegalArgumentException("listen address '" + listenAddress + "' is not an IP address");
        }
        if (!haproxyTrustedNetworks.matches("[0-9A-Fa-f.:/, ]*")) {
            throw new IllegalArgumentException("haproxyTrustedNetworks '" + haproxyTrustedNetworks
                    + "' must be networks like 127.0.0.0/8, separated by spaces or commas");
        }
        if (haproxyTimeout.toMillis() < 1000 || haproxyTimeout.toMillis() % 1000 != 0) {
            throw new IllegalArgumentException("haproxyTimeout " + haproxyTimeout + " must be whole seconds, >= 1 s");
        }
        if (startTimeout.isNegative() || startTimeout.isZero()) {
            throw new IllegalArgumentException("startTimeout must be positive");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().target(target).name(name).baseDir(baseDir).listenAddress(listenAddress).ports(ports)
                .haproxyTrustedNetworks(haproxyTrustedNetworks).disablePlaintextAuth(disablePlaintextAuth)
                .password(password).haproxyTimeout(haproxyTimeout).startTimeout(startTimeout).echoLog(echoLog);
    }

    /** Builds {@link DovecotOptions}; the initial values are the defaults. */
    public static final class Builder {
        private DovecotTarget target;
        private String name = "dovecot";
        private Path baseDir;
        private String listenAddress = "127.0.0.1";
        private DovecotPorts ports = DovecotPorts.FREE;
        private String haproxyTrustedNetworks = "127.0.0.0/8";
        private boolean disablePlaintextAuth = true;
        private String password = "demo";
        private Duration haproxyTimeout = Duration.ofSeconds(3);
        // Sized for a cold, loaded 2-core machine: Dovecot itself needs about a second.
        private Duration startTimeout = Duration.ofSeconds(30);
        private boolean echoLog = true;

        private Builder() {
        }

        /** Null (the default): {@link DovecotTarget#current()}, read when {@link #build()} runs. */
        public Builder target(DovecotTarget value) {
            target = value;
            return this;
        }

        public Builder name(String value) {
            name = value;
            return this;
        }

        /** Null (the default): a new temp dir, deleted by {@link Dovecot#close()}. */
        public Builder baseDir(Path value) {
            baseDir = value;
            return this;
        }

        public Builder listenAddress(String value) {
            listenAddress = value;
            return this;
        }

        public Builder ports(DovecotPorts value) {
            ports = Objects.requireNonNull(value, "ports");
            return this;
        }

        public Builder imapPort(int value) {
            ports = new DovecotPorts(value, ports.imapHaproxy(), ports.pop3(), ports.pop3Haproxy(), ports.lmtp(),
                    ports.lmtpHaproxy());
            return this;
        }

        public Builder imapHaproxyPort(int value) {
            ports = new DovecotPorts(ports.imap(), value, ports.pop3(), ports.pop3Haproxy(), ports.lmtp(),
                    ports.lmtpHaproxy());
            return this;
        }

        public Builder pop3HaproxyPort(int value) {
            ports = new DovecotPorts(ports.imap(), ports.imapHaproxy(), ports.pop3(), value, ports.lmtp(),
                    ports.lmtpHaproxy());
            return this;
        }

        public Builder lmtpHaproxyPort(int value) {
            ports = new DovecotPorts(ports.imap(), ports.imapHaproxy(), ports.pop3(), ports.pop3Haproxy(), ports.lmtp(),
                    value);
            return this;
        }

        public Builder haproxyTrustedNetworks(String value) {
            haproxyTrustedNetworks = value;
            return this;
        }

        public Builder disablePlaintextAuth(boolean value) {
            disablePlaintextAuth = value;
            return this;
        }

        public Builder password(String value) {
            password = value;
            return this;
        }

        public Builder haproxyTimeout(Duration value) {
            haproxyTimeout = value;
            return this;
        }

        public Builder startTimeout(Duration value) {
            startTimeout = value;
            return this;
        }

        public Builder echoLog(boolean value) {
            echoLog = value;
            return this;
        }

        public DovecotOptions build() {
            return new DovecotOptions(target != null ? target : DovecotTarget.current(), name, baseDir, listenAddress,
                    ports, haproxyTrustedNetworks, disablePlaintextAuth, password, haproxyTimeout, startTimeout, echoLog);
        }
    }
}
