package io.mailproxy.config;

/**
 * One backend server.
 *
 * @param backup used only when no normal server of its backend is usable (HAProxy's {@code backup})
 */
public record ServerSettings(String name, HostPort address, int weight, boolean backup) {

    /** HAProxy's range: 0 (no new sessions) to 256. */
    public static final int MAX_WEIGHT = 256;

    public ServerSettings {
        if (weight < 0 || weight > MAX_WEIGHT) {
            throw new IllegalArgumentException("weight " + weight + " is not within 0.." + MAX_WEIGHT);
        }
    }
}
