package io.mailproxy.dovecot;

import java.nio.file.Path;
import java.util.List;

/**
 * Renders a self-contained Dovecot configuration (no {@code !include}, so the system's
 * {@code /etc/dovecot} never leaks in), in 2.3 or 2.4 syntax. Every opening brace ends its line and
 * every closing brace stands alone, which both versions read.
 *
 * <p>What 2.4 renamed, as written here (2.3 → 2.4): {@code disable_plaintext_auth = yes} →
 * {@code auth_allow_cleartext = no} (plus {@code ssl = required}, see {@link DovecotOptions});
 * {@code mail_location = maildir:~/Maildir} → {@code mail_driver} + {@code mail_path};
 * {@code passdb { driver = static, args = password=... }} → {@code passdb static { password = ... }};
 * {@code userdb { args = uid=... home=.../%n }} → {@code userdb static { fields { ... } }} with
 * {@code %{user | username}}; {@code haproxy_timeout = 3 secs} and the listeners are unchanged.
 * 2.4 also wants {@code dovecot_config_version} and {@code dovecot_storage_version} first.
 *
 * @param options the instance's options
 * @param ports the ports, free ones resolved
 * @param baseDir the base directory, as the Dovecot process sees it
 * @param logPath {@code log_path}: a file, or {@code /dev/stderr} in a container
 * @param runAs the account the master runs as
 * @param mail the account mail processes run as (files in the homes belong to it)
 * @param tls the certificate and key for {@code ssl = required} (2.4 with plaintext auth disabled), else null
 */
record DovecotConfig(DovecotOptions options, DovecotPorts ports, Path baseDir, String logPath, ProcessUser runAs,
                     ProcessUser mail, CertificatePair tls) {

    /**
     * The configuration syntax written for 2.4: the oldest, which every 2.4 release reads (Debian's
     * own 2.4.1 configuration says 2.4.0 too).
     */
    static final String CONFIG_VERSION_2_4 = "2.4.0";

    /**
     * Services whose default {@code chroot} needs root: a non-root master cannot chroot, so each
     * service would die at startup with "chroot(...) failed: Operation not permitted". 2.3 only:
     * a non-root 2.4 is refused before this is written ({@link ProcessDovecot}).
     */
    private static final List<String> CHROOTED_SERVICES_2_3 = List.of("aggregator", "anvil", "director",
            "imap-login", "imap-urlauth-login", "ipc", "old-stats", "pop3-login", "submission-login");

    /** A PEM certificate and its key, readable by Dovecot. */
    record CertificatePair(Path cert, Path key) {
    }

    /** Whether this configuration needs {@link #tls()}: 2.4 refusing plaintext auth, which needs {@code ssl = required}. */
    static boolean needsCertificate(DovecotOptions options) {
        return options.target().version() == DovecotVersion.V2_4 && options.disablePlaintextAuth();
    }

    String render() {
        boolean v24 = options.target().version() == DovecotVersion.V2_4;
        StringBuilder c = new StringBuilder(2048);
        if (v24) {
            // Must come first: 2.4 reads the rest according to these.
            line(c, "dovecot_config_version", CONFIG_VERSION_2_4);
            line(c, "dovecot_storage_version", CONFIG_VERSION_2_4);
        }
        c.append("# Written by io.mailproxy.dovecot for instance '").append(options.name()).append("' (Dovecot ")
                .append(options.target().version().label()).append(").\n");
        line(c, "instance_name", "mailproxy-" + options.name());
        line(c, "base_dir", baseDir.resolve("run"));
        line(c, "state_dir", baseDir.resolve("state"));
        line(c, "log_path", logPath);
        line(c, "protocols", "imap pop3 lmtp");
        line(c, "listen", options.listenAddress());
        authentication(c, v24);
        line(c, "auth_mechanisms", "plain login");
        line(c, "auth_verbose", "yes");
        line(c, "verbose_proctitle", "yes");
        // Names the backend in the IMAP/POP3/LMTP greeting, so a demo user sees where the proxy sent them.
        line(c, "login_greeting", "Dovecot ready (" + options.name() + ").");
        line(c, "postmaster_address", "postmaster@example.com");
        line(c, "haproxy_trusted_networks", options.haproxyTrustedNetworks());
        line(c, "haproxy_timeout", options.haproxyTimeout().toSeconds() + " secs");
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
        users(c, v24);

        service(c, "imap-login", "imap", ports.imap(), "imap_haproxy", ports.imapHaproxy(), "imaps");
        service(c, "pop3-login", "pop3", ports.pop3(), "pop3_haproxy", ports.pop3Haproxy(), "pop3s");
        service(c, "lmtp", "lmtp", ports.lmtp(), "lmtp_haproxy", ports.lmtpHaproxy(), null);
        if (!runAs.isRoot()) {
            for (String service : CHROOTED_SERVICES_2_3) {
                c.append("service ").append(service).append(" {\n  chroot =\n}\n");
            }
        }
        return c.toString();
    }

    private void authentication(StringBuilder c, boolean v24) {
        if (!v24) {
            line(c, "ssl", "no");
            line(c, "disable_plaintext_auth", options.disablePlaintextAuth() ? "yes" : "no");
            return;
        }
        if (tls != null) {
            // 2.4 counts a haproxy connection as secured unless ssl = required; that needs a
            // certificate, which these plaintext listeners never present.
            line(c, "ssl", "required");
            line(c, "ssl_server_cert_file", tls.cert());
            line(c, "ssl_server_key_file", tls.key());
        } else {
            line(c, "ssl", "no");
        }
        line(c, "auth_allow_cleartext", options.disablePlaintextAuth() ? "no" : "yes");
    }

    /** Any user, one password; mail as maildir in {@code home/<user without domain>}. */
    private void users(StringBuilder c, boolean v24) {
        Path homes = baseDir.resolve("home");
        if (v24) {
            c.append("passdb static {\n  password = ").append(options.password()).append("\n}\n");
            c.append("userdb static {\n  fields {\n    uid = ").append(mail.uid()).append("\n    gid = ")
                    .append(mail.gid()).append("\n    home = ").append(homes).append("/%{user | username}\n  }\n}\n");
            line(c, "mail_driver", "maildir");
            line(c, "mail_path", "~/Maildir");
            return;
        }
        c.append("passdb {\n  driver = static\n  args = password=").append(options.password()).append("\n}\n");
        // %n drops the domain: "carol@example.com" over LMTP and "carol" over IMAP share a mailbox.
        c.append("userdb {\n  driver = static\n  args = uid=").append(mail.uid()).append(" gid=").append(mail.gid())
                .append(" home=").append(homes).append("/%n\n}\n");
        line(c, "mail_location", "maildir:~/Maildir");
    }

    private static void line(StringBuilder c, String key, Object value) {
        c.append(key).append(" = ").append(value).append('\n');
    }

    /**
     * One plain and one {@code haproxy = yes} listener; the built-in TLS listener is switched off.
     * One process of the service is started ahead ({@code process_min_avail}), so that the first
     * client of a cold instance does not wait for a login process to start.
     */
    private static void service(StringBuilder c, String service, String plainName, int plainPort,
                                String haproxyName, int haproxyPort, String tlsListener) {
        c.append("service ").append(service).append(" {\n");
        c.append("  process_min_avail = 1\n");
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
