package io.mailproxy.backend;

import io.mailproxy.Transport;
import io.mailproxy.log.Termination;
import io.mailproxy.relay.Reasons;
import io.mailproxy.relay.RelayHandler;
import io.mailproxy.relay.Session;
import io.mailproxy.relay.Side;
import io.mailproxy.stick.StickTable;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * Connects a session to a server of its backend: picks with the balancer, connects on the client's
 * event loop, and on failure tries a server not yet tried, up to {@code retries} more times. The
 * PROXY header is the first thing written on the new connection.
 *
 * <p>With a stick table ({@code stick on src}): the first attempt goes to the client's stored server
 * when it is UP, without asking the balancer; and once a connection succeeds, its server is stored
 * for the client, so after a failed attempt the entry follows the server that took the session.
 */
public final class BackendConnector {

    private static final Logger LOG = Logger.getLogger(BackendConnector.class.getName());

    private final Transport transport;
    private final WriteBufferWaterMark waterMark;

    public BackendConnector(Transport transport, WriteBufferWaterMark waterMark) {
        this.transport = transport;
        this.waterMark = waterMark;
    }

    /**
     * Starts connecting. {@code header} makes the PROXY header (or null) for each attempt;
     * {@code onConnected} runs on the event loop with the connected channel, after the header was
     * written; {@code onFailure} runs with the last attempt's error when every attempt failed.
     */
    public void connect(Session session, Supplier<ByteBuf> header, Consumer<Channel> onConnected,
                        Consumer<String> onFailure) {
        new Attempts(session, header, onConnected, onFailure).next(null);
    }

    private final class Attempts {
        private final Session session;
        private final Supplier<ByteBuf> header;
        private final Consumer<Channel> onConnected;
        private final Consumer<String> onFailure;
        private final Set<Server> tried = new HashSet<>();
        private int attempts;

        Attempts(Session session, Supplier<ByteBuf> header, Consumer<Channel> onConnected, Consumer<String> onFailure) {
            this.session = session;
            this.header = header;
            this.onConnected = onConnected;
            this.onFailure = onFailure;
        }

        void next(String lastError) {
            Backend backend = session.backend();
            // stick match: only the first attempt; a retry balances, and the store follows it.
            Server stuck = attempts == 0 ? stuckServer(backend) : null;
            Server server = stuck != null ? stuck : attempts <= backend.settings().retries() ? backend.balancer().pick(session.clientAddress(), tried) : null;
            if (server == null || !session.client().isActive()) {
                onFailure.accept(lastError != null ? lastError : "no server of " + backend.name() + " is usable (every server is DOWN, in maintenance or of weight 0)");
                return;
            }
            tried.add(server);
            server.acquire();
            session.connecting(server, attempts > 0);
            attempts++;
            Channel client = session.client();
            Bootstrap b = new Bootstrap()
                    .group(client.eventLoop())
                    .channel(transport.socketChannel())
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) backend.settings().connectTimeout().toMillis())
                    .option(ChannelOption.AUTO_READ, false)
                    .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.SO_KEEPALIVE, true)
                    .option(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark)
                    .handler(new RelayHandler(session, Side.SERVER));
            ChannelFuture f = b.connect(server.address());
            f.addListener(done -> connectDone(f, server));
        }

        /**
         * The server the stick table holds for this client, when it is UP in this backend (at any
         * weight, backup or not: HAProxy lets sticky traffic reach a weight-0 server), else null.
         */
        private Server stuckServer(Backend backend) {
            StickTable table = backend.stickTable();
            InetAddress client = clientIp();
            if (table == null || client == null) {
                return null;
            }
            String name = table.match(client);
            Server s = name == null ? null : backend.server(name);
            return s != null && s.isUp() ? s : null;
        }

        /** stick store: the server that took the session is the client's from now on. */
        private void stickStore(Server server) {
            StickTable table = session.backend().stickTable();
            InetAddress client = clientIp();
            if (table == null || client == null) {
                return;
            }
            String previous = table.store(client, server.name());
            if (previous != null) {
                LOG.fine(() -> "stick table " + table.name() + ": " + client.getHostAddress() + " moves from "
                        + previous + " to " + server.name() + " (" + server.qualifiedName() + ")");
            }
        }

        private InetAddress clientIp() {
            InetSocketAddress a = session.clientAddress();
            return a == null ? null : a.getAddress();
        }

        private void connectDone(ChannelFuture f, Server server) {
            if (!f.isSuccess()) {
                server.release();
                server.connectFailed();
                session.attemptFailed();
                String why = server.qualifiedName() + ": " + Reasons.of(f.cause());
                LOG.fine(() -> "connect to " + why);
                if (!session.client().isActive()) {
                    session.end(Termination.CLIENT_GONE_BEFORE_CONNECT, null);
                    return;
                }
                next(why);
                return;
            }
            Channel channel = f.channel();
            stickStore(server);
            session.connected(channel);
            if (!session.client().isActive()) {
                session.end(Termination.CLIENT_GONE_BEFORE_CONNECT, null);
                return;
            }
            ByteBuf h = header.get();
            if (h != null) {
                channel.write(h, channel.voidPromise());
            }
            onConnected.accept(channel);
        }
    }
}
