package io.mailproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet6Address;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link Cidr}: IPv4, IPv6 and IPv4-mapped IPv6 matching, and what is refused. */
class CidrTest {

    private static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    /** An IPv4-mapped IPv6 address kept as an Inet6Address, as a dual-stack socket may report it. */
    private static InetAddress mapped(int a, int b, int c, int d) throws Exception {
        byte[] bytes = new byte[16];
        bytes[10] = (byte) 0xFF;
        bytes[11] = (byte) 0xFF;
        bytes[12] = (byte) a;
        bytes[13] = (byte) b;
        bytes[14] = (byte) c;
        bytes[15] = (byte) d;
        return Inet6Address.getByAddress(null, bytes, null);
    }

    @Test
    void ipv4Network() throws Exception {
        Cidr c = Cidr.parse("10.0.0.0/8");
        assertTrue(c.contains(ip("10.255.1.2")));
        assertFalse(c.contains(ip("11.0.0.1")));
        assertFalse(c.contains(ip("2001:db8::1")));
        assertEquals("10.0.0.0/8", c.toString());
    }

    @Test
    void ipv6Network() throws Exception {
        Cidr c = Cidr.parse("2001:db8::/32");
        assertTrue(c.contains(ip("2001:db8:ffff::1")));
        assertFalse(c.contains(ip("2001:db9::1")));
        assertFalse(c.contains(ip("10.0.0.1")));
    }

    @Test
    void ipv4MappedPeerMatchesIpv4Network() throws Exception {
        assertTrue(mapped(10, 1, 2, 3) instanceof Inet6Address);
        assertTrue(Cidr.parse("10.0.0.0/8").contains(mapped(10, 1, 2, 3)));
        // Negative control: a mapped address outside the network.
        assertFalse(Cidr.parse("10.0.0.0/8").contains(mapped(192, 168, 0, 1)));
    }

    @Test
    void ipv4MappedNetworkIsStoredAsIpv4() throws Exception {
        Cidr c = Cidr.parse("::ffff:10.0.0.0/104");
        assertEquals("10.0.0.0/8", c.toString());
        assertTrue(c.contains(ip("10.9.9.9")));
    }

    @Test
    void bareAddressIsOneHost() throws Exception {
        assertTrue(Cidr.parse("127.0.0.2").contains(ip("127.0.0.2")));
        assertFalse(Cidr.parse("127.0.0.2").contains(ip("127.0.0.3")));
        assertTrue(Cidr.parse("::1").contains(ip("::1")));
    }

    @Test
    void zeroPrefixMatchesEveryAddressOfItsFamily() throws Exception {
        assertTrue(Cidr.parse("0.0.0.0/0").contains(ip("203.0.113.7")));
        assertFalse(Cidr.parse("0.0.0.0/0").contains(ip("2001:db8::1")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.0.0.0/33", "2001:db8::/129", "10.0.0/8", "256.0.0.0/8", "mail.example.com/24",
            "10.0.0.0/", "10.0.0.0/x", "", "10.1.2.3/8", "10.0.0.0/-1"})
    void refused(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Cidr.parse(text));
        assertTrue(e.getMessage().contains("\"" + text + "\""), e.getMessage());
    }

    @Test
    void hostBitsNameTheNetwork() {
        assertEquals("\"10.1.2.3/8\": host bits are set: the network of /8 is 10.0.0.0",
                assertThrows(IllegalArgumentException.class, () -> Cidr.parse("10.1.2.3/8")).getMessage());
    }
}
