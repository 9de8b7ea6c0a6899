package io.mailproxy;

import com.sun.security.auth.module.UnixSystem;

/** Who the process runs as. */
final class Privileges {

    private Privileges() {
    }

    /** Whether the process runs as root (uid 0). */
    static boolean isRoot() {
        try {
            return new UnixSystem().getUid() == 0;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }
}
