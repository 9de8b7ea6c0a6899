package io.mailproxy.dovecot;

import java.util.Locale;
import java.util.Objects;

/**
 * Which Dovecot a test talks to: a release line and how it runs. Written {@code 2.3-process},
 * {@code 2.3-container}, {@code 2.4-process} or {@code 2.4-container}; the system property
 * {@value #PROPERTY} selects it for a whole test run (the Maven build sets it per execution).
 *
 * @param version the release line, which decides the configuration syntax and the log lines
 * @param runtime a local child process of this JVM, or a container
 */
public record DovecotTarget(DovecotVersion version, Runtime runtime) {

    /** The system property naming the target of a test run; {@link #DEFAULT} when unset. */
    public static final String PROPERTY = "dovecot.target";

    /** Debian 12's Dovecot as local processes: needs nothing but the Debian packages. */
    public static final DovecotTarget DEFAULT = new DovecotTarget(DovecotVersion.V2_3, Runtime.PROCESS);

    /** How a Dovecot instance runs. */
    public enum Runtime {
        /**
         * A child process of this JVM: the host's {@code dovecot} when it is of the wanted release,
         * otherwise that release's binary inside its Debian root file system, run with
         * {@code chroot} (root only).
         */
        PROCESS,
        /** A Testcontainers container of an image built from Debian's packages, on the host network. */
        CONTAINER
    }

    public DovecotTarget {
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(runtime, "runtime");
    }

    /** The target of this test run: {@value #PROPERTY}, or {@link #DEFAULT} when unset or blank. */
    public static DovecotTarget current() {
        String value = System.getProperty(PROPERTY, "");
        return value.isBlank() ? DEFAULT : parse(value);
    }

    /** Parses {@code 2.4-container} and the like. */
    public static DovecotTarget parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        int dash = t.indexOf('-');
        if (dash > 0) {
            DovecotVersion version = DovecotVersion.ofLabel(t.substring(0, dash));
            for (Runtime runtime : Runtime.values()) {
                if (version != null && runtime.name().toLowerCase(Locale.ROOT).equals(t.substring(dash + 1))) {
                    return new DovecotTarget(version, runtime);
                }
            }
        }
        throw new IllegalArgumentException("Dovecot target '" + text
                + "' is not one of 2.3-process, 2.3-container, 2.4-process, 2.4-container");
    }

    @Override
    public String toString() {
        return version.label() + "-" + runtime.name().toLowerCase(Locale.ROOT);
    }
}
