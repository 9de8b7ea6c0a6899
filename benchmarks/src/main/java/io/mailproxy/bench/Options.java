package io.mailproxy.bench;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code --name value} options and {@code --flag} switches of one mode. Every option a mode reads
 * must be declared when it is read; {@link #checkAllUsed()} then rejects any other, so a typo in the
 * orchestrator's command line fails the run instead of silently measuring something else.
 */
final class Options {

    private final Map<String, String> values = new HashMap<>();
    private final Set<String> used = new HashSet<>();

    Options(List<String> args, Set<String> flags) {
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (!a.startsWith("--")) {
                throw new UsageException("unexpected argument \"" + a + "\"");
            }
            String name = a.substring(2);
            String value;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else if (flags.contains(name)) {
                value = "true";
            } else if (i + 1 < args.size()) {
                value = args.get(++i);
            } else {
                throw new UsageException("--" + name + " needs a value");
            }
            if (values.put(name, value) != null) {
                throw new UsageException("--" + name + " given twice");
            }
        }
    }

    String string(String name, String dflt) {
        used.add(name);
        String v = values.get(name);
        if (v == null && dflt == null) {
            throw new UsageException("--" + name + " is required");
        }
        return v == null ? dflt : v;
    }

    String required(String name) {
        return string(name, null);
    }

    int integer(String name, Integer dflt) {
        return (int) number(name, dflt == null ? null : dflt.longValue(), Integer.MAX_VALUE);
    }

    double decimal(String name, double dflt) {
        String v = string(name, String.valueOf(dflt));
        try {
            double d = Double.parseDouble(v);
            if (d < 0 || Double.isNaN(d)) {
                throw new NumberFormatException();
            }
            return d;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + ": \"" + v + "\" is not a non-negative number");
        }
    }

    private long number(String name, Long dflt, long max) {
        String v = string(name, dflt == null ? null : String.valueOf(dflt));
        try {
            long n = Long.parseLong(v);
            if (n < 0 || n > max) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + ": \"" + v + "\" is not a number from 0 to " + max);
        }
    }

    boolean flag(String name) {
        used.add(name);
        String v = values.get(name);
        if (v == null) {
            return false;
        }
        if (!v.equals("true") && !v.equals("false")) {
            throw new UsageException("--" + name + " is a switch; \"" + v + "\" is neither true nor false");
        }
        return Boolean.parseBoolean(v);
    }

    void checkAllUsed() {
        for (String name : values.keySet()) {
            if (!used.contains(name)) {
                throw new UsageException("unknown option --" + name);
            }
        }
    }

    /** A command line this mode cannot run; the message is printed as the run's error. */
    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message, null, false, false);
        }
    }
}
