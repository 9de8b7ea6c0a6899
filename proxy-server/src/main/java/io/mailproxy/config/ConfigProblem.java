package io.mailproxy.config;

import com.typesafe.config.ConfigOrigin;

/**
 * One thing wrong with a configuration, placed where the user wrote it.
 *
 * @param file the configuration file (or resource) the value came from
 * @param line its line, or -1 when unknown
 * @param path the key's full path, e.g. {@code mailproxy.frontends.imaps.bind}
 * @param message what is wrong, in one sentence
 */
public record ConfigProblem(String file, int line, String path, String message) {

    static ConfigProblem at(ConfigOrigin origin, String path, String message) {
        String file = origin == null ? "?" : origin.filename() != null ? origin.filename() : origin.description();
        int line = origin == null ? -1 : origin.lineNumber();
        return new ConfigProblem(file, line, path, message);
    }

    /** {@code FILE:LINE: path.to.key: what is wrong}, the form every error is printed in. */
    @Override
    public String toString() {
        return file + ":" + (line < 0 ? "?" : Integer.toString(line)) + ": " + path + ": " + message;
    }
}
