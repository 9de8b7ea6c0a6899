package io.mailproxy;

import io.mailproxy.systemd.ServiceNotifier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * Re-reads the configuration file when asked (SIGHUP, {@code mailproxy reload}, the runtime API) and
 * applies it with {@link MailProxy#reload}. One reload at a time, on a thread of its own so that
 * neither a signal handler nor an event loop waits for file reads and certificate parsing; requests
 * that come while one runs make exactly one more, which reads the file as it is then.
 */
final class Reloader {

    private static final Logger LOG = Logger.getLogger(Reloader.class.getName());

    private final MailProxy proxy;
    private final ServiceNotifier serviceManager;
    private final AtomicBoolean running = new AtomicBoolean();
    private final AtomicBoolean again = new AtomicBoolean();

    Reloader(MailProxy proxy, ServiceNotifier serviceManager) {
        this.proxy = proxy;
        this.serviceManager = serviceManager;
    }

    /** Asks for a reload; returns at once. */
    void request() {
        again.set(true);
        if (running.compareAndSet(false, true)) {
            Thread t = new Thread(this::drain, "mailproxy-reload");
            t.setDaemon(true);
            t.start();
        }
    }

    private void drain() {
        do {
            while (again.getAndSet(false)) {
                reloadOnce();
            }
            running.set(false);
            // a request between the last check and the reset above started no thread: take it here
        } while (again.get() && running.compareAndSet(false, true));
    }

    private void reloadOnce() {
        serviceManager.reloading("reloading the configuration");
        try {
            serviceManager.ready(proxy.reloadFromFile());
        } catch (RuntimeException e) {
            // a defect, not a configuration problem: said in one line, and the proxy runs on
            LOG.severe(() -> "reload failed, the running configuration may be partly applied: " + e);
        }
    }
}
