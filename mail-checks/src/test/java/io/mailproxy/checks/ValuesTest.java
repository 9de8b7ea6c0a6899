package io.mailproxy.checks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The value types: HAProxy's table, defaults, validation. */
class ValuesTest {

    private static final InetSocketAddress TARGET = new InetSocketAddress(InetAddress.getLoopbackAddress(), 143);

    @Test
    void statusesAreHaproxysCheckStatusesTable() {
        assertEquals("SOCKERR Socket error false|L4OK Layer4 check passed true|L4TOUT Layer4 timeout false|"
                + "L4CON Layer4 connection problem false|L6OK Layer6 check passed true|L6TOUT Layer6 timeout false|"
                + "L6RSP Layer6 invalid response false|L7OK Layer7 check passed true|L7TOUT Layer7 timeout false|"
                + "L7RSP Layer7 invalid response false|L7STS Layer7 wrong status false", describeAll());
        assertTrue(CheckStatus.L7OK.reportsCode());
        assertTrue(CheckStatus.L7STS.reportsCode());
        assertFalse(CheckStatus.L7RSP.reportsCode());
    }

    private static String describeAll() {
        List<String> all = new ArrayList<>();
        for (CheckStatus s : CheckStatus.values()) {
            all.add(s.code() + " " + s.description() + " " + s.passed());
        }
        return String.join("|", all);
    }

    @Test
    void resultEncodesLikeHaproxyAndCutsWithoutSplittingAnEscape() {
        assertEquals("a<0D><0A>", CheckResult.of(CheckStatus.L7RSP, 0, 0, "a\r\n").info());
        String cut = CheckResult.of(CheckStatus.L7RSP, 0, 0, "x".repeat(62) + "\u0000").info();
        assertEquals("x".repeat(62), cut);
        assertEquals("", CheckResult.of(CheckStatus.L7OK, 0, 0, null).info());
    }

    @Test
    void resultRefusesUnencodedInfo() {
        assertThrows(IllegalArgumentException.class, () -> new CheckResult(CheckStatus.L7RSP, 0, 0, "a\"b"));
        assertThrows(IllegalArgumentException.class, () -> new CheckResult(CheckStatus.L7RSP, 0, 0, "a\nb"));
        assertThrows(IllegalArgumentException.class, () -> new CheckResult(CheckStatus.L7RSP, 0, -1, ""));
        assertThrows(IllegalArgumentException.class, () -> new CheckResult(CheckStatus.L7RSP, 0, 0, "x".repeat(65)));
    }

    @Test
    void specDefaults() {
        CheckSpec spec = CheckSpec.of(CheckType.IMAP, TARGET);
        assertEquals(CheckProxyHeader.LOCAL, spec.sendProxy());
        assertEquals(CheckTls.NONE, spec.tls());
        assertEquals(Duration.ofSeconds(2), spec.timeout());
        assertEquals("localhost", spec.heloName());
        assertEquals(List.of(), spec.expectCapabilities());
    }

    @Test
    void specValidation() {
        CheckSpec spec = CheckSpec.of(CheckType.SMTP, TARGET);
        assertThrows(IllegalArgumentException.class,
                () -> CheckSpec.of(CheckType.IMAP, InetSocketAddress.createUnresolved("imap.example.com", 143)));
        assertThrows(IllegalArgumentException.class, () -> spec.withTimeout(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> spec.withHeloName("two words"));
        assertThrows(IllegalArgumentException.class, () -> spec.withHeloName("inject\r\nQUIT"));
        assertThrows(IllegalArgumentException.class, () -> spec.withExpectCapabilities(List.of("")));
    }

    @Test
    void scheduleDefaultsAreHaproxys() {
        CheckSchedule schedule = CheckSchedule.defaults();
        assertEquals(new CheckSchedule(Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(2), 2, 3,
                true, 5), schedule);
    }

    @Test
    void scheduleValidation() {
        Duration s = Duration.ofSeconds(1);
        assertThrows(IllegalArgumentException.class, () -> new CheckSchedule(s, s, s, 0, 3, true, 0));
        assertThrows(IllegalArgumentException.class, () -> new CheckSchedule(s, s, s, 2, 0, true, 0));
        assertThrows(IllegalArgumentException.class, () -> new CheckSchedule(s, s, s, 2, 3, true, 51));
        assertThrows(IllegalArgumentException.class, () -> new CheckSchedule(s, Duration.ZERO, s, 2, 3, true, 0));
    }
}
