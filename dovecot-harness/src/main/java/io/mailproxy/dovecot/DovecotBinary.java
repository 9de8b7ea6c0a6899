package io.mailproxy.dovecot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The installed {@code dovecot} executable and its version.
 *
 * <p>Only 2.3 is accepted because {@link DovecotConfig} writes 2.3 syntax: 2.4 renamed or removed
 * settings this launcher relies on ({@code disable_plaintext_auth}, {@code mail_location}, the
 * {@code passdb}/{@code userdb} argument strings) and requires {@code dovecot_config_version}.
 *
 * @param executable absolute path of the {@code dovecot} binary
 * @param version the full version string, e.g. {@code 2.3.19.1 (9b53102964)}
 */
record DovecotBinary(Path executable, String version) {

    static final String INSTALL_HINT =
            "apt-get install -y dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd";

    /** Debian installs dovecot in /usr/sbin, which is not on a normal user's PATH. */
    private static final List<String> EXTRA_DIRS = List.of("/usr/sbin", "/usr/local/sbin", "/sbin");
    private static final Pattern VERSION = Pattern.compile("^(\\d+)\\.(\\d+)");

    private static volatile DovecotBinary found;

    /** Finds the binary and checks it is 2.3.x, once per JVM; throws with the fix otherwise. */
    static DovecotBinary require() {
        DovecotBinary b = found;
        if (b == null) {
            b = locate();
            found = b;
        }
        return b;
    }

    private static DovecotBinary locate() {
        Path exe = findOnPath("dovecot");
        if (exe == null) {
            throw new DovecotException("the dovecot binary was not found on PATH or in " + EXTRA_DIRS
                    + "; install Dovecot 2.3 (Debian 12: " + INSTALL_HINT + ")");
        }
        String version = run(exe, "--version");
        Matcher m = VERSION.matcher(version);
        if (!m.find()) {
            throw new DovecotException(exe + " --version printed '" + version + "', not a Dovecot version");
        }
        if (!m.group(1).equals("2") || !m.group(2).equals("3")) {
            throw new DovecotException("Dovecot " + version + " found at " + exe + ", but this launcher needs 2.3.x: it"
                    + " writes 2.3 configuration syntax, and 2.4 changed it (dovecot_config_version, renamed"
                    + " settings such as disable_plaintext_auth and mail_location, new passdb/userdb blocks)."
                    + " Install 2.3 (Debian 12: " + INSTALL_HINT + ")");
        }
        return new DovecotBinary(exe, version);
    }

    static Path findOnPath(String name) {
        List<String> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(List.of(path.split(":")));
        }
        dirs.addAll(EXTRA_DIRS);
        for (String dir : dirs) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate.toAbsolutePath();
            }
        }
        return null;
    }

    /** Runs a short command and returns its trimmed output; any failure becomes a DovecotException. */
    static String run(Path exe, String... args) {
        List<String> command = new ArrayList<>();
        command.add(exe.toString());
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new DovecotException(String.join(" ", command) + " did not finish within 10 s");
            }
            String text = new String(out, StandardCharsets.UTF_8).trim();
            if (p.exitValue() != 0) {
                throw new DovecotException(String.join(" ", command) + " failed (exit " + p.exitValue() + "): " + text);
            }
            return text;
        } catch (IOException e) {
            throw new DovecotException("could not run " + String.join(" ", command) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DovecotException("interrupted while running " + String.join(" ", command), e);
        }
    }
}
