package io.mailproxy.config;

import com.typesafe.config.ConfigOrigin;

/**
 * Where a settings object was written, kept so that a check made only when the proxy is built (one
 * that depends on the TLS engine, say) can still point at the file and line.
 *
 * <p>Never part of a setting's value: every {@code Where} equals every other, so that a record
 * holding one still compares by value (two loads of a file whose lines moved are equal).
 *
 * @param path the object's configuration path, e.g. {@code mailproxy.frontends.imaps.tls}
 * @param origin where the object (or the nearest object around it) was written
 */
public record Where(String path, ConfigOrigin origin) {

    static Where of(ConfigReader r) {
        return new Where(r.path(), r.origin());
    }

    /** A problem with {@code key} of this object, placed at the object. */
    public ConfigProblem problem(String key, String message) {
        return ConfigProblem.at(origin, key.isEmpty() ? path : path + "." + key, message);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Where;
    }

    @Override
    public int hashCode() {
        return 0;
    }

    @Override
    public String toString() {
        return path;
    }
}
