package io.mailproxy.dovecot;

import java.net.InetAddress;
import java.util.List;
import java.util.Set;

/**
 * The six listeners of an instance. In {@link DovecotOptions}, 0 means "pick a free port".
 *
 * @param imap plain IMAP, no PROXY header
 * @param imapHaproxy IMAP requiring a PROXY header
 * @param pop3 plain POP3
 * @param pop3Haproxy POP3 requiring a PROXY header
 * @param lmtp plain LMTP
 * @param lmtpHaproxy LMTP requiring a PROXY header
 */
public record DovecotPorts(int imap, int imapHaproxy, int pop3, int pop3Haproxy, int lmtp, int lmtpHaproxy) {

    /** Every port free-picked. */
    public static final DovecotPorts FREE = new DovecotPorts(0, 0, 0, 0, 0, 0);

    /** Listener names in the order of {@link #all()}. */
    private static final List<String> ROLES =
            List.of("imap", "imapHaproxy", "pop3", "pop3Haproxy", "lmtp", "lmtpHaproxy");

    public DovecotPorts {
        // Compact constructor: the fields are not assigned yet, so use the parameters.
        List<Integer> given = List.of(imap, imapHaproxy, pop3, pop3Haproxy, lmtp, lmtpHaproxy);
        for (int p : given) {
            if (p < 0 || p > 65535) {
                throw new IllegalArgumentException("port " + p + " is not in 0..65535");
            }
        }
        List<Integer> fixed = given.stream().filter(p -> p != 0).toList();
        if (Set.copyOf(fixed).size() != fixed.size()) {
            throw new IllegalArgumentException("ports " + fixed + " must differ from each other");
        }
    }

    public List<Integer> all() {
        return List.of(imap, imapHaproxy, pop3, pop3Haproxy, lmtp, lmtpHaproxy);
    }

    /** The {@code haproxy = yes} port of a protocol: {@code imap}, {@code pop3} or {@code lmtp}. */
    public int haproxy(String protocol) {
        return switch (protocol) {
            case "imap" -> imapHaproxy;
            case "pop3" -> pop3Haproxy;
            case "lmtp" -> lmtpHaproxy;
            default -> throw new IllegalArgumentException("protocol '" + protocol + "' is not imap, pop3 or lmtp");
        };
    }

    /** The listener a port belongs to: "imap", "imapHaproxy", ..., or "unknown". */
    String role(int port) {
        int i = all().indexOf(port);
        return i < 0 ? "unknown" : ROLES.get(i);
    }

    /** Whether the listener of that role is to get a free-picked port. */
    boolean isFree(String role) {
        int i = ROLES.indexOf(role);
        return i >= 0 && all().get(i) == 0;
    }

    DovecotPorts resolve(InetAddress address) {
        return new DovecotPorts(pick(imap, address), pick(imapHaproxy, address), pick(pop3, address),
                pick(pop3Haproxy, address), pick(lmtp, address), pick(lmtpHaproxy, address));
    }

    private static int pick(int port, InetAddress address) {
        return port != 0 ? port : FreePorts.pick(address);
    }
}
