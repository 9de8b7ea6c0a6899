package io.mailproxy.tls;

/**
 * What counts as a host name where a client's SNI goes on: to a certificate lookup, to Dovecot as
 * the PROXY header's AUTHORITY. To the TLS layer an SNI name is any byte string; Dovecot 2.4 drops
 * a whole connection whose AUTHORITY is not a host name.
 */
public final class DnsNames {

    /** RFC 1035 2.3.4: a name is at most 255 octets, a label at most 63. */
    private static final int MAX_NAME_LENGTH = 255;
    private static final int MAX_LABEL_LENGTH = 63;

    private DnsNames() {
    }

    /**
     * Whether {@code name} is a DNS name: dot-separated labels of 1 to 63 letters, digits and
     * hyphens, at most 255 characters in all.
     */
    public static boolean isDnsName(String name) {
        if (name == null || name.isEmpty() || name.length() > MAX_NAME_LENGTH) {
            return false;
        }
        int label = 0;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '.') {
                if (label == 0) {
                    return false;
                }
                label = 0;
            } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-') {
                if (++label > MAX_LABEL_LENGTH) {
                    return false;
                }
            } else {
                return false;
            }
        }
        return label > 0;
    }
}
