package io.mailproxy.proxyprotocol;

/** The PROXY protocol version: v1 is the text line (spec 2.1), v2 the binary block (spec 2.2). */
public enum ProxyVersion {
    V1,
    V2
}
