package io.mailproxy.config;

/** Which TLS implementation terminates client TLS. */
public enum TlsEngine {
    /** BoringSSL through netty-tcnative when it loads on this machine, else the JDK's engine. */
    AUTO,
    /** BoringSSL through netty-tcnative; start-up fails when it cannot be loaded. */
    OPENSSL,
    /** The JDK's own engine. */
    JDK
}
