package io.mailproxy;

import java.util.logging.Logger;
import sun.misc.Signal;

/**
 * POSIX signals the process reacts to, through the JDK's {@code sun.misc.Signal} (module
 * {@code jdk.unsupported}, kept for this very use). A signal that cannot be handled here (a JVM
 * started with {@code -Xrs}, a platform without it) keeps its default and is reported once.
 */
final class Signals {

    private static final Logger LOG = Logger.getLogger(Signals.class.getName());

    private Signals() {
    }

    /** Runs {@code action} on each {@code SIG<name>} instead of the JVM's default. */
    static void handle(String name, Runnable action) {
        try {
            Signal.handle(new Signal(name), s -> action.run());
        } catch (IllegalArgumentException e) {
            LOG.warning("cannot handle SIG" + name + ": " + e.getMessage());
        }
    }
}
