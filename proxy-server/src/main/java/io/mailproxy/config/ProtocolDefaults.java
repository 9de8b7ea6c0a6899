package io.mailproxy.config;

import java.time.Duration;

/**
 * What a frontend of one protocol gets when it leaves {@code timeout.idle} or {@code shutdown-grace}
 * null: {@code mailproxy.protocol-defaults.<imap|pop3|lmtp>}.
 */
record ProtocolDefaults(Duration idleTimeout, Duration shutdownGrace) {

    static ProtocolDefaults read(ConfigReader r) {
        return new ProtocolDefaults(r.durationOrZero("idle-timeout"), r.durationOrZero("shutdown-grace"));
    }
}
