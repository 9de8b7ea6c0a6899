package io.mailproxy.dovecot;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Picks TCP ports that are free now, never the same one twice in this JVM.
 *
 * <p>The kernel may hand a just-closed ephemeral port to the next {@code bind(0)}, so two instances
 * starting in parallel could otherwise get the same port. Another process can still take a port
 * between our probe and Dovecot's bind; {@link Dovecot#start} retries with new ports in that case.
 */
final class FreePorts {

    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    private FreePorts() {
    }

    static int pick(InetAddress address) {
        for (int attempt = 0; attempt < 50; attempt++) {
            int port;
            try (ServerSocket socket = new ServerSocket(0, 1, address)) {
                port = socket.getLocalPort();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot bind a probe socket on " + address.getHostAddress(), e);
            }
            if (HANDED_OUT.add(port)) {
                return port;
            }
        }
        throw new DovecotException("no free TCP port on " + address.getHostAddress() + " after 50 attempts");
    }
}
