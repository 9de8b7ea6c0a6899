package io.mailproxy.config;

import java.util.List;

/** A configuration that cannot run, with every problem found in it. */
public final class ConfigurationException extends Exception {

    private final List<ConfigProblem> problems;

    public ConfigurationException(List<ConfigProblem> problems) {
        super(String.join("\n", problems.stream().map(ConfigProblem::toString).toList()), null, false, false);
        this.problems = List.copyOf(problems);
    }

    public List<ConfigProblem> problems() {
        return problems;
    }
}
