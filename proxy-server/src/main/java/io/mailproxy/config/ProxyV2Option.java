package io.mailproxy.config;

import java.util.Arrays;

/**
 * Extra content of a v2 PROXY header, named as HAProxy's server option {@code proxy-v2-options}.
 * Options that describe the client's TLS imply the SSL TLV, as in HAProxy.
 */
public enum ProxyV2Option {
    /** A CRC32C checksum TLV over the whole header. */
    CRC32C(false),
    /** A UNIQUE_ID TLV: an id per session (32 hex digits), the same on every connection attempt. */
    UNIQUE_ID(false),
    /**
     * The AUTHORITY TLV with the client's SNI name; mailproxy always sends it when there is one that
     * is a DNS name (Dovecot 2.4 drops a connection whose AUTHORITY is not a host name).
     */
    AUTHORITY(false),
    /**
     * The ALPN TLV with the protocol the client negotiated, when it is the frontend's own. Off by
     * default: Debian 13's Dovecot 2.4.1 drops every connection with an ALPN TLV ("HAproxy
     * application protocol mismatch"; fixed upstream in 2.4.2). For backends that ask for it.
     */
    ALPN(false),
    /** The SSL TLV's CIPHER sub-TLV; mailproxy always sends it with the SSL TLV. */
    SSL_CIPHER(true),
    /** The SSL TLV's SIG_ALG sub-TLV: the signature algorithm of the certificate mailproxy presented. */
    CERT_SIG(true),
    /** The SSL TLV's KEY_ALG sub-TLV: the key algorithm and size of the certificate mailproxy presented. */
    CERT_KEY(true);

    private final boolean impliesSsl;

    ProxyV2Option(boolean impliesSsl) {
        this.impliesSsl = impliesSsl;
    }

    /** True when the option adds to the SSL TLV, which it therefore turns on. */
    public boolean impliesSsl() {
        return impliesSsl;
    }

    /**
     * The option of a configuration name.
     *
     * @throws IllegalArgumentException naming the options there are
     */
    static ProxyV2Option fromConfigName(String name) {
        for (ProxyV2Option o : values()) {
            if (o.configName().equals(name.trim().toLowerCase())) {
                return o;
            }
        }
        throw new IllegalArgumentException("\"" + name + "\" is not one of "
                + String.join(", ", Arrays.stream(values()).map(ProxyV2Option::configName).toList()));
    }

    /** The name used in the configuration, e.g. {@code unique-id}. */
    public String configName() {
        return name().toLowerCase().replace('_', '-');
    }
}
