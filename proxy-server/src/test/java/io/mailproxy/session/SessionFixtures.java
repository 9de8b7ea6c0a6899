package io.mailproxy.session;

import io.mailproxy.backend.Backend;
import io.mailproxy.backend.BackendConnector;
import io.mailproxy.config.ConfigLoader;
import io.mailproxy.config.ConfigurationException;
import io.mailproxy.config.ProxySettings;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/** Sessions outside a running proxy, for tests of the handlers around them. */
public final class SessionFixtures {

    private SessionFixtures() {
    }

    /**
     * The context of frontend {@code f} of a configuration whose frontends and backends are given
     * (the text inside {@code mailproxy { ... }}), written to {@code dir}.
     */
    public static SessionContext context(Path dir, String body) {
        try {
            Path file = Files.writeString(Files.createTempFile(dir, "session", ".conf"), "mailproxy {\n" + body + "\n}\n");
            ProxySettings settings = ConfigLoader.load(file);
            var f = settings.frontends().values().iterator().next();
            Backend backend = new Backend(settings.backends().get(f.backend()));
            return new SessionContext(f, backend, new BackendConnector(NioSocketChannel.class,
                    new WriteBufferWaterMark(64 * 1024, 256 * 1024)), new AtomicInteger(), new AtomicInteger(), null, null,
                    new Sessions(), io.mailproxy.stats.Statistics.of(java.util.List.of(f.name()), java.util.List.of(backend)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (ConfigurationException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }
}
