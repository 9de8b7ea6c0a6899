package io.mailproxy.config;

import com.typesafe.config.ConfigOrigin;

/**
 * A listen address and where it was configured, so a failure to bind names the file and line.
 *
 * <p>Equal when the addresses are: where a value was written is not part of it, so a reload of a
 * file that only moved lines compares equal to what runs.
 *
 * @param path the configuration path, e.g. {@code mailproxy.frontends.imaps.bind}
 */
public record BindAddress(HostPort address, String path, ConfigOrigin origin) {

    /** A problem with this address, placed where it was written. */
    public ConfigProblem problem(String message) {
        return ConfigProblem.at(origin, path, message);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BindAddress b && address.equals(b.address);
    }

    @Override
    public int hashCode() {
        return address.hashCode();
    }
}
