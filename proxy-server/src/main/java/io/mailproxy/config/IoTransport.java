package io.mailproxy.config;

/** The socket implementation the event loops use. */
public enum IoTransport {
    /** Java NIO: portable; the default. */
    NIO,
    /** Linux epoll through Netty's native transport. */
    EPOLL
}
