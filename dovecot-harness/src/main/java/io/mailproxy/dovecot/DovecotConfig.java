package io.mailproxy.dovecot;

import java.nio.file.Path;
import java.util.List;

/**
 * Renders a self-contained Dovecot 2.3 configuration (no {@code !include}, so the system's
 * {@code /etc/dovecot} never leaks in). In 2.3 syntax every opening brace ends its line and every
 * closing brace stands alone.
 */
final class DovecotConfig {

    /**
     * Services whose default {@code chroot} needs root: a non-root master cannot chroot, so each
     * service would die at startup with "chroot(...) failed: Operation not permitted".
     */
    private static final List<String> CHROOTED_SERVICES = List.of("aggregator", "anvil", "director",
            "imap-login", "imap-urlauth-login", "ipc", "old-stats", "pop3-login", "submission-login");

    private DovecotConfig() {
    }

    /**
     * @param runAs the account the master runs as
     * @param mail the account mail processes run as (files in the homes belong to it)
     */
    static String render(Dovecot.Options o, Dovecot.Ports ports, Path baseDir, ProcessUser runAs, ProcessUser mail) {
        StringBuilder c = new StringBuilder(2048);
        c.append("# Written by io.mailproxy.dovecot.Dovecot for instance '").append(o.name()).append("'.\n");
        line(c, "instance_name", "mailproxy-" + o.name());
        line(c, "base_dir", baseDir.resolve("run"));
        line(c, "state_dir", baseDir.resolve("state"));
        line(c, "log_path", baseDir.resolve(Dovecot.LOG_FILE));
        line(c, "protocols", "imap pop3 lmtp");
        line(c, "listen", o.listenAddress());
        line(c, "ssl", "no");
        line(c, "disable_plaintext_auth", o.disablePlaintextAuth() ? "yes" : "no");
        line(c, "auth_mechanisms", "plain login");
        line(c, "auth_verbose", "yes");
        line(c, "verbose_proctitle", "yes");
        // Names the backend in the IMAP/POP3 greeting, so a demo user sees where the proxy sent them.
        line(c, "login_greeting", "Dovecot ready (" + o.name() + ").");
        line(c, "postmaster_address", "postmaster@example.com");
        line(c, "haproxy_trusted_networks", o.haproxyTrustedNetworks());
        line(c, "haproxy_timeout", o.haproxyTimeout().toSeconds() + " secs");
        // Only the one account we use may own mail; Dovecot's default minimum of 500 would reject
        // system accounts a CI runner might use.
        line(c, "first_valid_uid", mail.uid());
        line(c, "last_valid_uid", mail.uid());
        line(c, "first_valid_gid", mail.gid());
        line(c, "last_valid_gid", mail.gid());
        if (!runAs.isRoot()) {
            // Without root Dovecot cannot switch users: every service must run as us.
            line(c, "default_internal_user", runAs.name());
            line(c, "default_internal_group", runAs.group());
            line(c, "default_login_user", runAs.name());
        }
        c.append("passdb {\n  driver = static\n  args = password=").append(o.password()).append("\n}\n");
        // %n drops the domain: "carol@example.com" over LMTP and "carol" over IMAP share a mailbox.
        c.append("userdb {\n  driver = static\n  args = uid=").append(mail.uid()).append(" gid=").append(mail.gid())
                .append(" home=").append(baseDir.resolve("home")).append("/%n\n}\n");
        line(c, "mail_location", "maildir:~/Maildir");

        service(c, "imap-login", "imap", ports.imap(), "imap_haproxy", ports.imapHaproxy(), "imaps");
        service(c, "pop3-login", "pop3", ports.pop3(), "pop3_haproxy", ports.pop3Haproxy(), "pop3s");
        service(c, "lmtp", "lmtp", ports.lmtp(), "lmtp_haproxy", ports.lmtpHaproxy(), null);
        if (!runAs.isRoot()) {
            for (String service : CHROOTED_SERVICES) {
                c.append("service ").append(service).append(" {\n  chroot =\n}\n");
            }
        }
        return c.toString();
    }

    private static void line(StringBuilder c, String key, Object value) {
        c.append(key).append(" = ").append(value).append('\n');
    }

    /** One plain and one {@code haproxy = yes} listener; the built-in TLS listener is switched off. */
    private static void service(StringBuilder c, String service, String plainName, int plainPort,
                                String haproxyName, int haproxyPort, String tlsListener) {
        c.append("service ").append(service).append(" {\n");
        c.append("  inet_listener ").append(plainName).append(" {\n    port = ").append(plainPort).append("\n  }\n");
        c.append("  inet_listener ").append(haproxyName).append(" {\n    port = ").append(haproxyPort)
                .append("\n    haproxy = yes\n  }\n");
        if (tlsListener != null) {
            // Dovecot's built-in defaults include imaps on 993 and pop3s on 995: port 0 disables them.
            c.append("  inet_listener ").append(tlsListener).append(" {\n    port = 0\n  }\n");
        }
        c.append("}\n");
    }
}
