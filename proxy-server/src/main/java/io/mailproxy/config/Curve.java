package io.mailproxy.config;

import java.util.Arrays;
import java.util.Locale;

/**
 * A key-exchange group a frontend offers ({@code tls.curves}), in the names HAProxy's
 * {@code curves} takes, with the names each TLS engine knows it by.
 */
public enum Curve {
    X25519("X25519", "x25519", "x25519"),
    P_256("P-256", "secp256r1", "prime256v1", "secp256r1"),
    P_384("P-384", "secp384r1", "secp384r1"),
    P_521("P-521", "secp521r1", "secp521r1");

    private final String configName;
    private final String jdkName;
    private final String[] aliases;

    Curve(String configName, String jdkName, String... aliases) {
        this.configName = configName;
        this.jdkName = jdkName;
        this.aliases = aliases;
    }

    /** The name in the configuration and in BoringSSL's group list: {@code X25519}, {@code P-256}. */
    public String configName() {
        return configName;
    }

    /** The JDK's name ({@code jdk.tls.namedGroups}): {@code x25519}, {@code secp256r1}. */
    public String jdkName() {
        return jdkName;
    }

    /**
     * The curve of a name: its own, or OpenSSL's ({@code prime256v1}, {@code secp384r1}), in any case.
     *
     * @throws IllegalArgumentException naming the curves there are
     */
    static Curve of(String name) {
        String n = name.trim();
        for (Curve c : values()) {
            if (c.configName.equalsIgnoreCase(n) || Arrays.stream(c.aliases).anyMatch(a -> a.equalsIgnoreCase(n))) {
                return c;
            }
        }
        throw new IllegalArgumentException("\"" + name + "\" is not one of "
                + String.join(", ", Arrays.stream(values()).map(Curve::configName).toList())
                + " (OpenSSL's prime256v1, secp384r1, secp521r1 are taken too)");
    }

    @Override
    public String toString() {
        return configName.toLowerCase(Locale.ROOT);
    }
}
