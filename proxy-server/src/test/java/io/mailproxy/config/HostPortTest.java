package io.mailproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HostPortTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "127.0.0.1:993            | 127.0.0.1        | 993   | 127.0.0.1:993",
            "0.0.0.0:1                | 0.0.0.0          | 1     | 0.0.0.0:1",
            "mail.example.com:65535   | mail.example.com | 65535 | mail.example.com:65535",
            "[::1]:993                | ::1              | 993   | [::1]:993",
            "[::]:995                 | ::               | 995   | [::]:995",
            "[2001:db8::5]:24         | 2001:db8::5      | 24    | [2001:db8::5]:24",
            "[fe80::1%eth0]:143       | fe80::1%eth0     | 143   | [fe80::1%eth0]:143",
            "'  10.0.0.1:110  '       | 10.0.0.1         | 110   | 10.0.0.1:110",
    })
    void parsesGoodForms(String text, String host, int port, String printed) {
        HostPort hp = HostPort.parse(text);
        assertEquals(new HostPort(host, port), hp);
        // toString gives back a form parse() takes: IPv6 hosts regain their brackets.
        assertEquals(printed, hp.toString());
        assertEquals(hp, HostPort.parse(hp.toString()));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "127.0.0.1         | '\"127.0.0.1\" is not an address like \"127.0.0.1:993\" or \"[::1]:993\"'",
            "host:99999        | 'port 99999 in \"host:99999\" is not within 1..65535'",
            "host:0            | 'port 0 in \"host:0\" is not within 1..65535'",
            "[::1]             | '\"[::1]\" is not an address like \"[::1]:993\"'",
            "[::1]993          | '\"[::1]993\" is not an address like \"[::1]:993\"'",
            "[::1              | '\"[::1\" is not an address like \"[::1]:993\"'",
            "::1:993           | '\"::1:993\" is not an address like \"127.0.0.1:993\" or \"[::1]:993\"'",
            ":993              | '\":993\" is not an address like \"127.0.0.1:993\" or \"[::1]:993\"'",
            "host:             | '\"host:\" has no port number after the colon'",
            "host:imap         | '\"host:imap\" has no port number after the colon'",
            "[::1]:            | '\"[::1]:\" has no port number after the colon'",
            "[::1]:99999       | 'port 99999 in \"[::1]:99999\" is not within 1..65535'",
            "[]:993            | '\"[]:993\" has no host before the port'",
    })
    void rejectsBadFormsWithASentence(String text, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HostPort.parse(text));
        assertEquals(message, e.getMessage());
    }

    @Test
    void constructorValidatesToo() {
        assertEquals("host is empty", assertThrows(IllegalArgumentException.class, () -> new HostPort("", 1)).getMessage());
        assertEquals("port 65536 is not within 1..65535",
                assertThrows(IllegalArgumentException.class, () -> new HostPort("h", 65536)).getMessage());
    }

    @Test
    void socketAddressIsUnresolvedUntilAsked() {
        HostPort hp = HostPort.parse("[::1]:993");
        InetSocketAddress unresolved = hp.toSocketAddress();
        assertTrue(unresolved.isUnresolved());
        assertEquals("::1", unresolved.getHostString());
        InetSocketAddress resolved = hp.resolve();
        assertFalse(resolved.isUnresolved());
        assertEquals(993, resolved.getPort());
        assertTrue(resolved.getAddress().isLoopbackAddress());
    }
}
