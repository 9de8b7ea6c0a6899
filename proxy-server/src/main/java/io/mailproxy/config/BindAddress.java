package io.mailproxy.config;

import com.typesafe.config.ConfigOrigin;

/**
 * A listen address and where it was configured, so a failure to bind names the file and line.
 *
 * @param path the configuration path, e.g. {@code mailproxy.frontends.imaps.bind}
 */
public record BindAddress(HostPort address, String path, ConfigOrigin origin) {
}
