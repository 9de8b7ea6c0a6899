package io.mailproxy.backend;

import io.mailproxy.balance.Balancer;
import io.mailproxy.config.BackendSettings;
import io.mailproxy.config.ServerSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** A backend at run time: its servers, its balancer and its counters. */
public final class Backend {

    private final BackendSettings settings;
    private final List<Server> servers;
    private final Balancer balancer;
    private final AtomicInteger active = new AtomicInteger();

    public Backend(BackendSettings settings) {
        this.settings = settings;
        List<Server> list = new ArrayList<>();
        for (ServerSettings s : settings.servers()) {
            list.add(new Server(settings.name(), s));
        }
        this.servers = List.copyOf(list);
        this.balancer = Balancer.of(settings.balance(), servers);
    }

    public String name() {
        return settings.name();
    }

    public BackendSettings settings() {
        return settings;
    }

    public List<Server> servers() {
        return servers;
    }

    public Balancer balancer() {
        return balancer;
    }

    /** Sessions of this backend that have not ended. */
    public AtomicInteger active() {
        return active;
    }
}
