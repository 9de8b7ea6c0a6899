package io.mailproxy.admin;

import io.mailproxy.backend.Backend;
import io.mailproxy.backend.Server;
import io.mailproxy.checks.ServerHealth;
import io.mailproxy.config.ServerSettings;
import io.mailproxy.log.Termination;
import io.mailproxy.stats.report.ProxyView;
import java.util.logging.Logger;

/**
 * What an admin may do to a server, from the runtime API or the stats page: one implementation of
 * each action, so both say and do the same. Each returns null when done, else HAProxy's message.
 */
public final class ServerActions {

    private static final Logger LOG = Logger.getLogger(ServerActions.class.getName());

    private final ProxyView view;

    public ServerActions(ProxyView view) {
        this.view = view;
    }

    /** The backend named {@code name}, or null. */
    public Backend backend(String name) {
        for (Backend b : view.backendList()) {
            if (b.name().equals(name)) {
                return b;
            }
        }
        return null;
    }

    /** {@code set server B/S state ready|drain|maint}. */
    public String state(Backend b, Server s, Server.AdminState state) {
        b.setAdminState(s, state);
        return null;
    }

    /** {@code set server B/S weight N}. */
    public String weight(Backend b, Server s, int weight) {
        if (weight < 0 || weight > ServerSettings.MAX_WEIGHT) {
            return "Backend " + b.name() + ": weight must be between 0 and " + ServerSettings.MAX_WEIGHT + ".";
        }
        b.setWeight(s, weight);
        LOG.info(() -> "server " + s.qualifiedName() + ": weight set to " + weight + " by an admin");
        return null;
    }

    /** {@code set maxconn server B/S N}. */
    public String maxConnections(Backend b, Server s, int max) {
        if (max < 0) {
            return "Value out of range.";
        }
        b.setMaxConnections(s, max);
        LOG.info(() -> "server " + s.qualifiedName() + ": max-connections set to " + max + " by an admin");
        return null;
    }

    /** {@code set server B/S health up|down}: forces the health state, checks or not. */
    public String health(Backend b, Server s, boolean up) {
        ServerHealth health = view.healthChecks() == null ? null : view.healthChecks().health(s);
        if (health != null) {
            health.force(up);
        } else if (s.healthUp() != up) {
            b.markUp(s, up);
            LOG.warning(() -> "Server " + s.qualifiedName() + " is " + (up ? "UP" : "DOWN") + ", changed from CLI.");
        }
        return null;
    }

    /** {@code enable|disable health B/S}. */
    public String checks(Server s, boolean enabled) {
        ServerHealth health = view.healthChecks() == null ? null : view.healthChecks().health(s);
        if (health == null) {
            return "Health checks are not configured on this server, cannot " + (enabled ? "enable" : "disable") + ".";
        }
        health.setEnabled(enabled);
        LOG.info(() -> "server " + s.qualifiedName() + ": health checks " + (enabled ? "enabled" : "disabled") + " by an admin");
        return null;
    }

    /** {@code shutdown sessions server B/S}: every session connected to it ends, logged {@code KD killed}. */
    public String shutdownSessions(Server s) {
        int n = s.shutdownSessions(Termination.KILLED, "killed by an admin (shutdown sessions server " + s.qualifiedName() + ")");
        LOG.info(() -> "shutdown sessions server " + s.qualifiedName() + ": " + n + " session(s) closed");
        return null;
    }
}
