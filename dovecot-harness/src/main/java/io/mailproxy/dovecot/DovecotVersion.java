package io.mailproxy.dovecot;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Dovecot release line, and what differs between them for a proxy in front: the configuration
 * syntax ({@link DovecotConfig}) and the words of the log lines tests look for. The patterns were
 * read off Debian's 2.3.19.1 (bookworm) and 2.4.1 (trixie).
 *
 * <pre>
 * 2.3  imap-login: Info: Login: user=&lt;u&gt;, method=PLAIN, rip=127.0.0.2, lip=127.0.0.1, mpid=9, secured, session=&lt;..&gt;
 * 2.4  imap-login: Info: Logged in: user=&lt;u&gt;, method=PLAIN, rip=127.0.0.2, lip=127.0.0.1, mpid=9, TLS, session=&lt;..&gt;
 * </pre>
 */
public enum DovecotVersion {

    /** Dovecot 2.3 (Debian 12, bookworm, ships 2.3.19). */
    V2_3("2.3", "bookworm", "Login", "secured", "Disconnected: Aborted login by logging out", "Plaintext"),
    /** Dovecot 2.4 (Debian 13, trixie, ships 2.4.1): renamed settings, new log words. */
    V2_4("2.4", "trixie", "Logged in", "TLS", "Login aborted: Logged out", "Cleartext");

    private static final Pattern MAJOR_MINOR = Pattern.compile("^(\\d+\\.\\d+)\\.");

    private final String label;
    private final String debianSuite;
    private final String loggedIn;
    private final String tlsWord;
    private final String loggedOutBeforeLogin;
    private final String cleartextWord;

    DovecotVersion(String label, String debianSuite, String loggedIn, String tlsWord, String loggedOutBeforeLogin,
                   String cleartextWord) {
        this.label = label;
        this.debianSuite = debianSuite;
        this.loggedIn = loggedIn;
        this.tlsWord = tlsWord;
        this.loggedOutBeforeLogin = loggedOutBeforeLogin;
        this.cleartextWord = cleartextWord;
    }

    /** {@code 2.3} or {@code 2.4}. */
    public String label() {
        return label;
    }

    /** The Debian release whose packages provide this line: the images and root file systems are built from it. */
    public String debianSuite() {
        return debianSuite;
    }

    /** The line of a version string such as {@code 2.4.1-4 (7d8c0e5759)}; null when it is neither 2.3 nor 2.4. */
    public static DovecotVersion of(String versionString) {
        Matcher m = MAJOR_MINOR.matcher(versionString.trim());
        return m.find() ? ofLabel(m.group(1)) : null;
    }

    static DovecotVersion ofLabel(String label) {
        for (DovecotVersion v : values()) {
            if (v.label.equals(label)) {
                return v;
            }
        }
        return null;
    }

    /**
     * A successful login of {@code user} on a login service ({@code imap} or {@code pop3}), secured
     * or not: 2.3's {@code Login: user=<u>}, 2.4's {@code Logged in: user=<u>}.
     */
    public Pattern login(String protocol, String user) {
        return loginMatching(protocol, Pattern.quote(user));
    }

    /** As {@link #login}, for every user name matching {@code userRegex}. */
    public Pattern loginMatching(String protocol, String userRegex) {
        return Pattern.compile(protocol + "-login: Info: " + loggedIn + ": user=<" + userRegex + ">, ");
    }

    /**
     * A login of {@code user} that Dovecot counts as TLS-secured (for a haproxy listener: the PROXY
     * header's SSL TLV said the client spoke TLS): 2.3's {@code Login: ... secured}, 2.4's
     * {@code Logged in: ... TLS}.
     */
    public Pattern securedLogin(String protocol, String user) {
        return Pattern.compile(login(protocol, user).pattern() + ".*, " + tlsWord + ", session=<");
    }

    /**
     * A login session that ended without logging in, by the client's LOGOUT or QUIT, with its
     * detail in {@code reason}: {@code no auth attempts in \d+ secs} for a health check that only
     * asked for capabilities, {@code auth failed, \d+ attempts in \d+ secs} for a refused login.
     * 2.3: {@code Disconnected: Aborted login by logging out (reason): user=<>...};
     * 2.4: {@code Login aborted: Logged out (reason) (code): user=<>...}.
     */
    public Pattern loggedOutBeforeLogin(String protocol, String reason, String user) {
        return Pattern.compile(protocol + "-login: Info: " + loggedOutBeforeLogin + " \\(" + reason + "\\)"
                + (this == V2_4 ? " \\(\\w+\\)" : "") + ": user=<" + Pattern.quote(user) + ">, ");
    }

    /**
     * What the client reads when a plaintext LOGIN or USER/PASS is refused on a connection Dovecot
     * does not count as secured: {@code Plaintext authentication disallowed ...} (2.3),
     * {@code Cleartext authentication disallowed ...} (2.4).
     */
    public String cleartextRefusal() {
        return cleartextWord + " authentication disallowed on non-secure (SSL/TLS) connections.";
    }
}
