package io.mailproxy.dovecot;

import java.util.ArrayList;
import java.util.List;

/**
 * A Unix account as Dovecot's settings need it: names for {@code default_*_user}, numbers for the
 * static userdb.
 */
record ProcessUser(String name, int uid, String group, int gid) {

    /** The master's account in a container or a chroot into a Debian root file system. */
    static final ProcessUser ROOT = new ProcessUser("root", 0, "root", 0);

    /**
     * The account mail belongs to when Dovecot runs as root: never root itself, Dovecot refuses
     * that. Debian's {@code nobody}/{@code nogroup} (65534), the same in every Debian release, so
     * the same numbers hold inside a container or chroot and on the host that owns the files.
     */
    static final ProcessUser NOBODY = new ProcessUser("nobody", 65534, "nogroup", 65534);

    /** The account this JVM runs as, from {@code id}: Java has no portable API for uid and gid. */
    static ProcessUser current() {
        return Current.USER;
    }

    /** Asked once per JVM (the holder class is loaded on first use). */
    private static final class Current {
        static final ProcessUser USER =
                new ProcessUser(id("-un"), Integer.parseInt(id("-u")), id("-gn"), Integer.parseInt(id("-g")));
    }

    /** Another account of this machine, by name. */
    static ProcessUser named(String user) {
        return new ProcessUser(user, Integer.parseInt(id("-u", user)), id("-gn", user), Integer.parseInt(id("-g", user)));
    }

    boolean isRoot() {
        return uid == 0;
    }

    private static String id(String... args) {
        List<String> command = new ArrayList<>(List.of("id"));
        command.addAll(List.of(args));
        return Commands.run(command);
    }
}
