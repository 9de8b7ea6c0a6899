package io.mailproxy.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Ports for mailproxy's listeners: the configuration wants a real port (1..65535), so a test asks
 * the kernel for a free one, closes the probe and writes the number into the file.
 *
 * <p>The kernel may hand a just-closed port to the next {@code bind(0)}, so a port is never handed
 * out twice in this JVM. Another process could still take it before mailproxy binds; on this
 * machine's ephemeral range that is rare enough for tests.
 */
public final class FreePorts {

    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    private FreePorts() {
    }

    /** A TCP port on 127.0.0.1 that is free now. */
    public static int next() {
        for (int attempt = 0; attempt < 50; attempt++) {
            int port;
            try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = probe.getLocalPort();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot bind a probe socket on 127.0.0.1", e);
            }
            if (HANDED_OUT.add(port)) {
                return port;
            }
        }
        throw new IllegalStateException("no free TCP port on 127.0.0.1 after 50 attempts");
    }

    /**
     * A port nothing listens on: a connection to it is refused at once. Like {@link #next()}, never
     * handed out again, so no later listener of this JVM takes it.
     */
    static int closed() {
        return next();
    }
}
