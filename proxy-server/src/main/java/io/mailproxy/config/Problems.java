package io.mailproxy.config;

import com.typesafe.config.ConfigOrigin;
import java.util.ArrayList;
import java.util.List;

/**
 * The problems found in one configuration, so that the user sees all of them at once, and a count
 * of failed reads, by which a record that read a bad value knows not to be built.
 *
 * <p>A failure is counted for every problem, and also for a value whose shape the schema check has
 * already reported (the reader meets it again, but the user should read about it once).
 */
final class Problems {
    private final List<ConfigProblem> list = new ArrayList<>();
    private int failures;

    void add(ConfigOrigin origin, String path, String message) {
        list.add(ConfigProblem.at(origin, path, message));
        failures++;
    }

    /** A read that failed on a value the schema check has reported already. */
    void failAgain() {
        failures++;
    }

    /** Grows with every problem and failed read: a record compares it before and after reading itself. */
    int failures() {
        return failures;
    }

    boolean isEmpty() {
        return list.isEmpty();
    }

    void throwIfAny() throws ConfigurationException {
        if (!list.isEmpty()) {
            throw new ConfigurationException(list);
        }
    }
}
