package io.mailproxy.config;

import io.netty.util.NetUtil;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.regex.Pattern;

/**
 * An IPv4 or IPv6 network such as {@code 10.0.0.0/8} or {@code 2001:db8::/32}.
 *
 * <p>IPv4-mapped IPv6 addresses ({@code ::ffff:10.1.2.3}, what a dual-stack {@code [::]} listener
 * reports for an IPv4 peer) are compared as the IPv4 address they carry, so {@code 10.0.0.0/8}
 * matches them; a mapped network ({@code ::ffff:10.0.0.0/104}) is stored as its IPv4 equivalent.
 */
public record Cidr(InetAddress network, int prefixLength) {

    /** Literal addresses only: a host name here would mean a DNS lookup at load time. */
    private static final Pattern LITERAL = Pattern.compile("[0-9A-Fa-f.:]+");
    private static final int MAPPED_PREFIX_BITS = 96;

    public Cidr {
        network = unmap(network);
        int max = network.getAddress().length * 8;
        if (prefixLength < 0 || prefixLength > max) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " is not within 0.." + max);
        }
        byte[] masked = mask(network.getAddress(), prefixLength);
        if (!Arrays.equals(masked, network.getAddress())) {
            // 10.1.2.3/8 is almost always a typo for a host or for 10.0.0.0/8: make the user say which.
            throw new IllegalArgumentException("host bits are set: the network of /" + prefixLength + " is "
                    + address(masked).getHostAddress());
        }
    }

    /**
     * Parses {@code address/prefix}; a bare address means one host ({@code /32} or {@code /128}).
     *
     * @throws IllegalArgumentException with a message fit for a configuration error
     */
    public static Cidr parse(String text) {
        String s = text.trim();
        int slash = s.indexOf('/');
        String host = slash < 0 ? s : s.substring(0, slash);
        // NetUtil parses literals only (never DNS); a host name or a bad octet gives null.
        InetAddress address = host.isEmpty() || !LITERAL.matcher(host).matches()
                ? null : NetUtil.createInetAddressFromIpAddressString(host);
        if (address == null) {
            throw new IllegalArgumentException("\"" + text + "\" is not a network; expected a CIDR like 10.0.0.0/8 or 2001:db8::/32");
        }
        boolean mapped = host.indexOf(':') >= 0 && unmap(address) instanceof Inet4Address;
        int max = mapped ? 128 : address.getAddress().length * 8;
        int prefix = max;
        if (slash >= 0) {
            String p = s.substring(slash + 1);
            if (!p.matches("\\d{1,3}")) {
                throw new IllegalArgumentException("\"" + text + "\": the prefix length must be a number from 0 to " + max);
            }
            prefix = Integer.parseInt(p);
            if (prefix > max) {
                throw new IllegalArgumentException("\"" + text + "\": the prefix length must be a number from 0 to " + max);
            }
        }
        if (mapped) {
            if (prefix < MAPPED_PREFIX_BITS) {
                throw new IllegalArgumentException("\"" + text + "\": an IPv4-mapped network needs a prefix of at least 96");
            }
            prefix -= MAPPED_PREFIX_BITS;
        }
        try {
            return new Cidr(address, prefix);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("\"" + text + "\": " + e.getMessage());
        }
    }

    /** True when {@code address} lies in this network. */
    public boolean contains(InetAddress address) {
        byte[] candidate = unmap(address).getAddress();
        byte[] net = network.getAddress();
        if (candidate.length != net.length) {
            return false;
        }
        return Arrays.equals(mask(candidate, prefixLength), net);
    }

    @Override
    public String toString() {
        return network.getHostAddress() + "/" + prefixLength;
    }

    private static byte[] mask(byte[] address, int prefix) {
        byte[] out = address.clone();
        for (int i = 0; i < out.length; i++) {
            int bits = Math.max(0, Math.min(8, prefix - i * 8));
            out[i] &= (byte) (0xFF << (8 - bits));
        }
        return out;
    }

    /** {@code ::ffff:a.b.c.d} as {@code a.b.c.d}; other addresses unchanged. */
    private static InetAddress unmap(InetAddress address) {
        if (address instanceof Inet6Address) {
            byte[] b = address.getAddress();
            boolean mapped = b[10] == (byte) 0xFF && b[11] == (byte) 0xFF;
            for (int i = 0; i < 10 && mapped; i++) {
                mapped = b[i] == 0;
            }
            if (mapped) {
                return address(Arrays.copyOfRange(b, 12, 16));
            }
        }
        return address;
    }

    private static InetAddress address(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("an address of " + bytes.length + " bytes", e);
        }
    }
}
