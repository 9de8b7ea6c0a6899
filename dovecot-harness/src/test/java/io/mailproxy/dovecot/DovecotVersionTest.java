package io.mailproxy.dovecot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The log matchers against lines read off Debian's 2.3.19.1 and 2.4.1, each against the other version's too. */
class DovecotVersionTest {

    private static final String LOGIN_23 = "Nov 30 02:10:39 imap-login: Info: Login: user=<dan>, method=PLAIN, "
            + "rip=127.0.0.2, lip=127.0.0.1, mpid=25239, secured, session=<XcSQ6nRhsxV/AAAC>";
    private static final String LOGIN_24 = "Nov 30 01:59:46 imap-login: Info: Logged in: user=<alice>, method=PLAIN, "
            + "rip=127.0.0.2, lip=127.0.0.1, mpid=18, TLS, session=<mhGiw3RhsxV/AAAC>";
    /** 2.4 writes "secured" (not TLS) for a client on the server's own address. */
    private static final String LOGIN_24_LOOPBACK = "Nov 30 01:59:47 imap-login: Info: Logged in: user=<carl>, method=PLAIN, "
            + "rip=127.0.0.1, lip=127.0.0.1, mpid=21, secured, session=<unm0w3RhsxV/AAAB>";
    private static final String REFUSED_23 = "Nov 30 02:10:41 imap-login: Info: Disconnected: Aborted login by logging out "
            + "(auth failed, 1 attempts in 0 secs): user=<carl>, rip=127.0.0.1, lip=127.0.0.1, session=<8wex6nRhsxV/AAAB>";
    private static final String REFUSED_24 = "Nov 30 01:59:47 imap-login: Info: Login aborted: Logged out (auth failed, "
            + "1 attempts in 0 secs) (auth_failed): user=<bob>, rip=127.0.0.2, lip=127.0.0.1, session=<JEerw3RhsxV/AAAC>";
    private static final String CHECK_24 = "Nov 30 02:00:00 pop3-login: Info: Login aborted: Logged out (no auth attempts "
            + "in 1 secs) (no_auth_attempts): user=<>, rip=127.0.0.1, lip=127.0.0.1, secured, session=<EaptxHRhfql/AAAB>";

    @Test
    void versionStringsMapToTheirLine() {
        assertEquals(DovecotVersion.V2_3, DovecotVersion.of("2.3.19.1 (9b53102964)"));
        assertEquals(DovecotVersion.V2_4, DovecotVersion.of("2.4.1-4 (7d8c0e5759)"));
        assertNull(DovecotVersion.of("2.2.36 (1f10bfa63)"));
        assertEquals("trixie", DovecotVersion.V2_4.debianSuite());
    }

    @Test
    void loginMatchesEachVersionsOwnWords() {
        assertTrue(DovecotVersion.V2_3.login("imap", "dan").matcher(LOGIN_23).find());
        assertTrue(DovecotVersion.V2_4.login("imap", "alice").matcher(LOGIN_24).find());
        assertFalse(DovecotVersion.V2_3.login("imap", "alice").matcher(LOGIN_24).find());
        assertFalse(DovecotVersion.V2_4.login("imap", "dan").matcher(LOGIN_23).find());
        assertFalse(DovecotVersion.V2_4.login("pop3", "alice").matcher(LOGIN_24).find(), "another service");
        assertFalse(DovecotVersion.V2_4.login("imap", "alic").matcher(LOGIN_24).find(), "a prefix of the user");
    }

    @Test
    void securedLoginIsTlsIn24AndSecuredIn23() {
        assertTrue(DovecotVersion.V2_3.securedLogin("imap", "dan").matcher(LOGIN_23).find());
        assertTrue(DovecotVersion.V2_4.securedLogin("imap", "alice").matcher(LOGIN_24).find());
        // negative control: a 2.4 login that is secured only by being local is not TLS
        assertTrue(DovecotVersion.V2_4.login("imap", "carl").matcher(LOGIN_24_LOOPBACK).find());
        assertFalse(DovecotVersion.V2_4.securedLogin("imap", "carl").matcher(LOGIN_24_LOOPBACK).find());
    }

    @Test
    void loggedOutBeforeLoginCarriesTheReason() {
        String failed = "auth failed, \\d+ attempts in \\d+ secs";
        assertTrue(DovecotVersion.V2_3.loggedOutBeforeLogin("imap", failed, "carl").matcher(REFUSED_23).find());
        assertTrue(DovecotVersion.V2_4.loggedOutBeforeLogin("imap", failed, "bob").matcher(REFUSED_24).find());
        assertFalse(DovecotVersion.V2_3.loggedOutBeforeLogin("imap", failed, "bob").matcher(REFUSED_24).find());
        assertTrue(DovecotVersion.V2_4.loggedOutBeforeLogin("pop3", "no auth attempts in \\d+ secs", "")
                .matcher(CHECK_24).find());
        assertFalse(DovecotVersion.V2_4.loggedOutBeforeLogin("pop3", failed, "").matcher(CHECK_24).find());
    }
}
