package io.mailproxy.config;

import java.time.Duration;
import java.util.List;

/**
 * The statistics listener ({@code mailproxy.stats}): HAProxy's {@code stats enable} / {@code stats uri}
 * / {@code stats auth} / {@code stats admin} / {@code stats refresh} in one object.
 *
 * @param bind    where it listens, or null when there is no stats listener
 * @param auth    who may read it (HTTP basic authentication); empty = anyone, allowed on loopback only
 * @param admin   whether authenticated users may act on servers from the page
 * @param refresh how often the page reloads itself; zero = never
 */
public record StatsSettings(BindAddress bind, List<User> auth, boolean admin, Duration refresh) {

    /** One {@code user}/{@code password} pair of {@code auth}. */
    public record User(String user, String password) {
        public User {
            if (user.isEmpty() || user.contains(":")) {
                throw new IllegalArgumentException("a user name must not be empty or contain ':'");
            }
            if (password.isEmpty()) {
                throw new IllegalArgumentException("a password must not be empty");
            }
        }

        @Override
        public String toString() {
            return "User[" + user + "]";
        }

        static User read(ConfigReader r) {
            return new User(r.string("user"), r.string("password"));
        }
    }

    public StatsSettings {
        auth = List.copyOf(auth);
    }

    /** Whether a stats listener is configured. */
    public boolean enabled() {
        return bind != null;
    }

    /** {@code mailproxy.stats}. */
    static StatsSettings read(ConfigReader r) {
        BindAddress bind = r.optionalParsed("bind",
                text -> new BindAddress(HostPort.parse(text).requireResolvable(), r.path("bind"), r.origin("bind")));
        List<User> auth = r.list("auth", User::read);
        boolean admin = r.bool("admin");
        Duration refresh = r.durationOrZero("refresh");
        if (bind != null && auth.isEmpty() && !bind.address().resolve().getAddress().isLoopbackAddress()) {
            r.problem("bind", bind.address() + " is not a loopback address: the stats listener needs `auth` there");
        }
        if (admin && auth.isEmpty()) {
            r.problem("admin", "admin actions need `auth`: nothing admin-only is reachable without authentication");
        }
        return new StatsSettings(bind, auth, admin, refresh);
    }
}
