package io.mailproxy.dovecot;

import java.nio.file.Path;

/**
 * A Unix account as Dovecot's settings need it: names for {@code default_*_user}, numbers for the
 * static userdb.
 */
record ProcessUser(String name, int uid, String group, int gid) {

    /** The account used for mail when Dovecot runs as root: never root itself, Dovecot refuses that. */
    static final String ROOT_MAIL_USER = "nobody";

    /** The account this JVM runs as, from {@code id}: Java has no portable API for uid and gid. */
    static ProcessUser current() {
        return new ProcessUser(id("-un"), Integer.parseInt(id("-u")), id("-gn"), Integer.parseInt(id("-g")));
    }

    /** Another account, by name. */
    static ProcessUser named(String user) {
        return new ProcessUser(user, Integer.parseInt(id("-u", user)), id("-gn", user), Integer.parseInt(id("-g", user)));
    }

    boolean isRoot() {
        return uid == 0;
    }

    private static String id(String... args) {
        Path id = DovecotBinary.findOnPath("id");
        if (id == null) {
            throw new DovecotException("the id command was not found; it is needed to learn the current uid and gid");
        }
        return DovecotBinary.run(id, args);
    }
}
