package io.mailproxy.dovecot;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@code dovecot} program a local instance runs: the host's when it is of the wanted release,
 * otherwise that release's Debian package inside a root file system built by {@link DovecotImages},
 * run with {@code chroot} in a mount namespace of its own ({@code unshare --mount}), so that the
 * mounts it needs vanish with it.
 *
 * <p>The chroot sees the host's {@code /tmp} (and the base directory, wherever it is) at the same
 * paths, and the host's network: the same configuration file serves either way.
 *
 * @param version the release line
 * @param versionString what {@code dovecot --version} printed, e.g. {@code 2.4.1-4 (7d8c0e5759)}
 * @param executable the host's binary, or {@code /usr/sbin/dovecot} inside {@code rootfs}
 * @param rootfs the root file system to chroot into, or null for the host's binary
 */
record DovecotBinary(DovecotVersion version, String versionString, Path executable, Path rootfs) {

    static final String INSTALL_HINT_2_3 = "apt-get install -y dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd";
    private static final Path IN_ROOTFS = Path.of("/usr/sbin/dovecot");
    private static final Path DOVECONF_IN_ROOTFS = Path.of("/usr/bin/doveconf");
    private static final Map<DovecotVersion, DovecotBinary> FOUND = new ConcurrentHashMap<>();

    /**
     * Mounts what Dovecot needs inside the root file system, then becomes the program: for the
     * master, the process the JVM started is then the master itself, so stopping it works as for
     * the host's binary. Arguments: $1 root file system, $2 base directory, then the program and
     * its arguments.
     */
    private static final String CHROOT_SCRIPT = String.join(" && ",
            "R=\"$1\"", "B=\"$2\"", "shift 2",
            "mount --bind /tmp \"$R/tmp\"",
            "case \"$B\" in /tmp/*) ;; *) mkdir -p \"$R$B\" && mount --bind \"$B\" \"$R$B\" ;; esac",
            "mount --bind /dev \"$R/dev\"",
            "mount -t proc proc \"$R/proc\"",
            "exec chroot \"$R\" \"$@\"");

    /** Finds or builds the binary of a release, once per JVM; throws with the fix when it cannot. */
    static DovecotBinary require(DovecotVersion wanted) {
        return FOUND.computeIfAbsent(wanted, DovecotBinary::locate);
    }

    /** Null when {@link #require} can succeed here (possibly after building a root file system), else why not. */
    static String unavailableReason(DovecotVersion wanted) {
        Path host = Commands.find("dovecot");
        if (host != null && DovecotVersion.of(Commands.run(List.of(host.toString(), "--version"))) == wanted) {
            return null;
        }
        String onHost = host == null ? "no dovecot is installed" : "the installed dovecot is not " + wanted.label();
        if (!ProcessUser.current().isRoot()) {
            return "Dovecot " + wanted.label() + " as a local process: " + onHost + ", and running Debian "
                    + wanted.debianSuite() + "'s with chroot needs root"
                    + (wanted == DovecotVersion.V2_3 ? "; install it: " + INSTALL_HINT_2_3 : "");
        }
        for (String tool : List.of("unshare", "chroot", "mount")) {
            if (Commands.find(tool) == null) {
                return "Dovecot " + wanted.label() + " as a local process: " + onHost + ", and " + tool
                        + " (util-linux/coreutils) is missing to run Debian " + wanted.debianSuite() + "'s with chroot";
            }
        }
        return DovecotImages.unavailableReason(wanted);
    }

    private static DovecotBinary locate(DovecotVersion wanted) {
        Path host = Commands.find("dovecot");
        if (host != null) {
            String v = Commands.run(List.of(host.toString(), "--version"));
            if (DovecotVersion.of(v) == wanted) {
                return new DovecotBinary(wanted, v, host, null);
            }
        }
        String reason = unavailableReason(wanted);
        if (reason != null) {
            throw new DovecotException(reason);
        }
        Path rootfs = DovecotImages.rootDirectory(wanted);
        String v = Commands.run(List.of("chroot", rootfs.toString(), IN_ROOTFS.toString(), "--version"));
        if (DovecotVersion.of(v) != wanted) {
            throw new DovecotException(rootfs + " holds Dovecot " + v + ", not " + wanted.label());
        }
        return new DovecotBinary(wanted, v, IN_ROOTFS, rootfs);
    }

    /** The command that runs the master in the foreground ({@code -F}: it stays our child, so we can stop and reap it). */
    List<String> command(Path config, Path baseDir) {
        return inPlace(baseDir, executable.toString(), "-F", "-c", config.toString());
    }

    /** The command that prints the non-default settings of a configuration file ({@code doveconf -n}). */
    List<String> doveconf(Path config) {
        Path doveconf = rootfs != null ? DOVECONF_IN_ROOTFS : Commands.find("doveconf");
        if (doveconf == null) {
            throw new DovecotException("doveconf was not found next to " + executable);
        }
        return inPlace(config.getParent(), doveconf.toString(), "-n", "-c", config.toString());
    }

    /** {@code program} with its arguments: on the host, or inside the root file system where {@code dir} is at its own path. */
    private List<String> inPlace(Path dir, String program, String... args) {
        List<String> command = new ArrayList<>();
        if (rootfs != null) {
            command.addAll(List.of(Commands.find("unshare").toString(), "--mount", "--propagation", "private",
                    "sh", "-c", CHROOT_SCRIPT, "sh", rootfs.toString(), dir.toString()));
        }
        command.add(program);
        command.addAll(List.of(args));
        return command;
    }

    /** How it runs, for messages: {@code /usr/sbin/dovecot} or {@code /usr/sbin/dovecot in <rootfs>}. */
    String describe() {
        return rootfs == null ? executable.toString() : executable + " in " + rootfs;
    }
}
