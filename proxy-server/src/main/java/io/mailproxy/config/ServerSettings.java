package io.mailproxy.config;

/**
 * One backend server.
 *
 * @param backup         used only when no normal server of its backend is usable (HAProxy's {@code backup})
 * @param maxConnections the most sessions placed on this server at once, 0 = no limit (HAProxy's {@code maxconn})
 * @param maxQueue       the most sessions waiting for this server, 0 = no limit (HAProxy's {@code maxqueue})
 */
public record ServerSettings(String name, HostPort address, int weight, boolean backup, int maxConnections,
                             int maxQueue) {

    /** HAProxy's range: 0 (no new sessions) to 256. */
    public static final int MAX_WEIGHT = 256;

    public ServerSettings {
        if (weight < 0 || weight > MAX_WEIGHT) {
            throw new IllegalArgumentException("weight " + weight + " is not within 0.." + MAX_WEIGHT);
        }
        if (maxConnections < 0 || maxQueue < 0) {
            throw new IllegalArgumentException("max-connections and max-queue must not be negative");
        }
    }

    /** One element of a backend's {@code servers}, over {@code mailproxy.defaults.server}. */
    static ServerSettings read(ConfigReader r) {
        String name = r.parsed("name", s -> ConfigReader.nonEmpty(s, "a server needs a name"));
        HostPort address = r.parsed("address",
                s -> HostPort.parse(ConfigReader.nonEmpty(s, "a server needs an address like \"10.0.0.1:143\"")).requireResolvable());
        int weight = r.intIn("weight", 0, MAX_WEIGHT);
        boolean backup = r.bool("backup");
        int maxConnections = r.intIn("max-connections", 0, Integer.MAX_VALUE);
        int maxQueue = r.intIn("max-queue", 0, Integer.MAX_VALUE);
        if (maxQueue > 0 && maxConnections == 0) {
            r.problem("max-queue", "has no effect without max-connections: a server without a connection limit never queues");
        }
        return new ServerSettings(name, address, weight, backup, maxConnections, maxQueue);
    }
}
