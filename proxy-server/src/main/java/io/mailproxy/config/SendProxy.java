package io.mailproxy.config;

/** The PROXY protocol header a backend's servers receive, named as HAProxy's server options. */
public enum SendProxy {
    NONE,
    /** HAProxy {@code send-proxy}. */
    V1,
    /** HAProxy {@code send-proxy-v2}. */
    V2,
    /** HAProxy {@code send-proxy-v2-ssl}: v2 with the SSL TLV. */
    V2_SSL,
    /** HAProxy {@code send-proxy-v2-ssl-cn}: v2 with the SSL TLV and the client certificate's CN. */
    V2_SSL_CN;

    public boolean sendsSslTlv() {
        return this == V2_SSL || this == V2_SSL_CN;
    }
}
