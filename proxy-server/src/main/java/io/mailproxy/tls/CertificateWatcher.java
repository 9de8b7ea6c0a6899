package io.mailproxy.tls;

import io.mailproxy.config.CertificateFiles;
import io.mailproxy.config.FrontendSettings;
import io.mailproxy.frontend.Frontend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * Certificates that follow their files ({@code tls.reload-certificates}): every few seconds the
 * certificate and key files of each TLS frontend are read and hashed; when the contents changed (a
 * renewal hook rewrote them, cert-manager swapped a symlink), the frontend's certificates are built
 * again and new handshakes present them, without a signal. Files that cannot be used (a key that
 * does not match, a half-written PEM) leave the previous certificates in place; that is logged once
 * per change, and the next change is tried again.
 *
 * <p>The same thread reads the other files a frontend's TLS follows (ticket keys, OCSP responses)
 * every {@code tls.file-check-interval}.
 *
 * <p>Contents, not modification times, decide: a copy that keeps the old time, or a symlink swapped
 * to a target with the same time, is still seen. The files are small, so hashing them every few
 * seconds costs nothing worth counting. Runs on a thread of its own (file reads and key parsing
 * never touch an event loop).
 */
public final class CertificateWatcher implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(CertificateWatcher.class.getName());

    /** How often the files are read. */
    public static final Duration INTERVAL = Duration.ofSeconds(5);

    /** Builds a frontend's certificates from its settings, as at start and reload. */
    @FunctionalInterface
    public interface Builder {
        ServerTls build(FrontendSettings settings) throws ServerTls.TlsProblem;
    }

    /** Gives {@code frontend} its new certificates, unless a reload replaced the frontend's settings meanwhile. */
    @FunctionalInterface
    public interface Installer {
        void install(Frontend frontend, FrontendSettings builtFor, ServerTls tls);
    }

    private final Supplier<List<Frontend>> frontends;
    private final Builder builder;
    private final Installer installer;
    private final ScheduledExecutorService thread;
    /** Per frontend: the settings and contents seen last, and whether that state was reported unusable. */
    private final Map<Frontend, Seen> seen = new HashMap<>();
    /** Per frontend: when its other TLS files were last read. */
    private final Map<Frontend, Long> refreshed = new HashMap<>();

    private record Seen(FrontendSettings settings, byte[] digest) {
    }

    private CertificateWatcher(Supplier<List<Frontend>> frontends, Builder builder, Installer installer, Duration interval) {
        this.frontends = frontends;
        this.builder = builder;
        this.installer = installer;
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "mailproxy-certificates");
            t.setDaemon(true);
            return t;
        });
        long millis = interval.toMillis();
        thread.scheduleWithFixedDelay(this::poll, millis, millis, TimeUnit.MILLISECONDS);
    }

    /** Starts watching; the contents at this moment are taken as the ones in use. */
    public static CertificateWatcher start(Supplier<List<Frontend>> frontends, Builder builder, Installer installer,
                                           Duration interval) {
        CertificateWatcher w = new CertificateWatcher(frontends, builder, installer, interval);
        w.thread.execute(w::remember);
        return w;
    }

    private void remember() {
        for (Frontend f : frontends.get()) {
            if (watched(f.settings())) {
                seen.put(f, new Seen(f.settings(), digest(f.settings())));
            }
        }
    }

    private static boolean watched(FrontendSettings f) {
        return f.tls().enabled() && f.tls().reloadCertificates() && !f.tls().certificates().isEmpty();
    }

    /** One round; any failure is logged and the next round comes as usual. */
    void poll() {
        try {
            List<Frontend> now = frontends.get();
            refreshOtherFiles(now);
            seen.keySet().retainAll(now);
            for (Frontend f : now) {
                FrontendSettings settings = f.settings();
                if (!watched(settings)) {
                    seen.remove(f);
                    continue;
                }
                byte[] digest = digest(settings);
                Seen last = seen.get(f);
                if (last == null || !last.settings().equals(settings)) {
                    // new, or a reload gave it settings (and certificates read just then)
                    seen.put(f, new Seen(settings, digest));
                    continue;
                }
                if (Arrays.equals(last.digest(), digest)) {
                    continue;
                }
                seen.put(f, new Seen(settings, digest));
                try {
                    ServerTls tls = builder.build(settings);
                    installer.install(f, settings, tls);
                    LOG.info(() -> "frontend " + settings.name() + ": certificate files changed, new handshakes use them ("
                            + files(settings) + ")");
                } catch (ServerTls.TlsProblem e) {
                    LOG.warning(() -> "frontend " + settings.name() + ": certificate files changed but cannot be used,"
                            + " the previous certificates stay: " + e.problem());
                }
            }
        } catch (RuntimeException e) {
            LOG.warning(() -> "checking the certificate files failed: " + e);
        }
    }

    /**
     * The other files a frontend's TLS re-reads (ticket keys, OCSP responses: {@link ServerTls#refresh}),
     * each {@code tls.file-check-interval}.
     */
    private void refreshOtherFiles(List<Frontend> now) {
        long nanos = System.nanoTime();
        refreshed.keySet().retainAll(now);
        for (Frontend f : now) {
            ServerTls tls = f.tls();
            if (tls == null) {
                continue;
            }
            Long last = refreshed.putIfAbsent(f, nanos);
            if (last != null && nanos - last >= f.settings().tls().fileCheckInterval().toNanos()) {
                refreshed.put(f, nanos);
                tls.refresh();
            }
        }
    }

    private static String files(FrontendSettings settings) {
        StringBuilder out = new StringBuilder();
        for (CertificateFiles c : settings.tls().certificates()) {
            out.append(out.length() == 0 ? "" : ", ").append(c.cert());
        }
        return out.toString();
    }

    /** SHA-256 over every file's contents; a file that cannot be read counts as its error. */
    private static byte[] digest(FrontendSettings settings) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256 in this JVM", e);
        }
        for (CertificateFiles c : settings.tls().certificates()) {
            for (Path p : List.of(c.cert(), c.key())) {
                try {
                    sha.update(Files.readAllBytes(p));
                } catch (IOException e) {
                    sha.update(("unreadable " + p + ": " + e.getMessage()).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                }
                sha.update((byte) 0);
            }
        }
        return sha.digest();
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
