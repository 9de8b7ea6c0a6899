package io.mailproxy.config;

import java.net.InetSocketAddress;

/**
 * A listen or server address as written in the configuration: {@code host:port} or
 * {@code [v6]:port}. The host is kept as written and resolved only when a socket is made.
 */
public record HostPort(String host, int port) {

    public HostPort {
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("host is empty");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not within 1..65535");
        }
    }

    /**
     * Parses {@code host:port} or {@code [v6]:port}.
     *
     * @throws IllegalArgumentException with a sentence fit for the user
     */
    public static HostPort parse(String text) {
        String s = text.trim();
        String host;
        String port;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("\"" + text + "\" is not an address like \"[::1]:993\"");
            }
            host = s.substring(1, close);
            port = s.substring(close + 2);
        } else {
            int colon = s.lastIndexOf(':');
            if (colon <= 0 || s.indexOf(':') != colon) {
                throw new IllegalArgumentException("\"" + text + "\" is not an address like \"127.0.0.1:993\" or \"[::1]:993\"");
            }
            host = s.substring(0, colon);
            port = s.substring(colon + 1);
        }
        int number;
        try {
            if (port.isEmpty() || !port.chars().allMatch(Character::isDigit)) {
                throw new NumberFormatException(port);
            }
            number = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("\"" + text + "\" has no port number after the colon");
        }
        if (number < 1 || number > 65535) {
            throw new IllegalArgumentException("port " + number + " in \"" + text + "\" is not within 1..65535");
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException("\"" + text + "\" has no host before the port");
        }
        return new HostPort(host, number);
    }

    /** An unresolved socket address; the host is resolved when a socket is bound or connected. */
    public InetSocketAddress toSocketAddress() {
        return InetSocketAddress.createUnresolved(host, port);
    }

    /**
     * Returns this address if its host resolves now. Configuration checks use it so that a typo
     * in a host name is reported with its line, by {@code check} as well as by {@code run}.
     *
     * @throws IllegalArgumentException when the host does not resolve
     */
    public HostPort requireResolvable() {
        if (resolve().isUnresolved()) {
            throw new IllegalArgumentException("host \"" + host + "\" does not resolve");
        }
        return this;
    }

    /** Resolves the host now (for binding). */
    public InetSocketAddress resolve() {
        return new InetSocketAddress(host, port);
    }

    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
}
