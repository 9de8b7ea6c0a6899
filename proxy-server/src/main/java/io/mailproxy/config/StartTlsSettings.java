package io.mailproxy.config;

import java.time.Duration;
import java.util.Objects;

/**
 * What mailproxy says before TLS on a STARTTLS frontend ({@code tls.starttls}).
 *
 * @param timeout  from the accept, the longest the plaintext dialogue may last before the client
 *                 sends STARTTLS (or, with {@code starttls-optional}, a command that goes to the
 *                 server); then the session is closed
 * @param hostName the name in the LMTP greeting and LHLO reply, or null for the machine's own
 */
public record StartTlsSettings(Duration timeout, String hostName) {
    public StartTlsSettings {
        Objects.requireNonNull(timeout, "timeout");
    }

    /** A frontend's {@code tls.starttls} section. */
    static StartTlsSettings read(ConfigReader r) {
        Duration timeout = r.duration("timeout");
        String hostName = r.optionalParsed("host-name", StartTlsSettings::hostName);
        return new StartTlsSettings(timeout, hostName);
    }

    /** RFC 5321 4.1.3: a domain in the greeting; one word of letters, digits, '-' and '.'. */
    private static String hostName(String s) {
        if (s.isEmpty() || s.length() > 255 || !s.chars().allMatch(c -> Character.isLetterOrDigit(c) && c < 0x80
                || c == '-' || c == '.')) {
            throw new IllegalArgumentException("\"" + s + "\" is not a host name like \"mx.example.com\"");
        }
        return s;
    }
}
