package io.mailproxy.config;

import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The runtime API's unix socket ({@code mailproxy.admin-socket}), as HAProxy's
 * {@code stats socket PATH mode M user U group G level admin}.
 *
 * @param path  the socket's path, or null when there is none
 * @param mode  the socket file's permissions
 * @param user  its owner (a user name), or null to keep the process's
 * @param group its group (a group name), or null to keep the process's
 */
public record AdminSocketSettings(Path path, Set<PosixFilePermission> mode, String user, String group) {

    public AdminSocketSettings {
        mode = Set.copyOf(mode);
    }

    public boolean enabled() {
        return path != null;
    }

    /** {@code mailproxy.admin-socket}. */
    static AdminSocketSettings read(ConfigReader r) {
        Path path = r.optionalParsed("path", text -> {
            if (text.isEmpty() || !text.startsWith("/")) {
                throw new IllegalArgumentException("expected an absolute path like \"/run/mailproxy/admin.sock\"");
            }
            return Path.of(text);
        });
        Set<PosixFilePermission> mode = r.parsed("mode", AdminSocketSettings::mode);
        return new AdminSocketSettings(path, mode, r.optionalString("user"), r.optionalString("group"));
    }

    /** An octal mode of up to four digits, e.g. {@code 0660}, as permissions (set-id bits are refused). */
    static Set<PosixFilePermission> mode(String text) {
        if (!text.matches("0?[0-7]{3}")) {
            throw new IllegalArgumentException("expected an octal mode like \"0600\", found \"" + text + "\"");
        }
        int m = Integer.parseInt(text, 8);
        StringBuilder rwx = new StringBuilder(9);
        String letters = "rwxrwxrwx";
        for (int bit = 8; bit >= 0; bit--) {
            rwx.append((m & (1 << bit)) != 0 ? letters.charAt(8 - bit) : '-');
        }
        return PosixFilePermissions.fromString(rwx.toString());
    }
}
