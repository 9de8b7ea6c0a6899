package io.mailproxy.limit;

import com.sun.management.UnixOperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;

/**
 * The process's open-files limit (the soft {@code RLIMIT_NOFILE}: {@code ulimit -n},
 * {@code LimitNOFILE=} in a systemd unit) and the sessions it allows, as HAProxy derives its
 * {@code maxconn} from {@code ulimit-n}: a session holds two descriptors (client and server), and
 * some are kept back for the listeners, the health checks, the log and the JVM's own files.
 */
public final class FileDescriptors {

    /**
     * Descriptors kept beyond those open at start (the JVM's jars and libraries) and one per listener
     * and per checked server: the event loops' selectors, the log, a connection attempt in flight.
     */
    static final int MARGIN = 32;

    private FileDescriptors() {
    }

    /** The open-files limit, or -1 where the JVM cannot tell. */
    public static long limit() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        return os instanceof UnixOperatingSystemMXBean unix ? unix.getMaxFileDescriptorCount() : -1;
    }

    /** Descriptors open now, or -1 where the JVM cannot tell. */
    public static long open() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        return os instanceof UnixOperatingSystemMXBean unix ? unix.getOpenFileDescriptorCount() : -1;
    }

    /**
     * Descriptors kept back for a process that has {@code openNow} open before it starts, with
     * {@code listeners} listeners and {@code checked} checked servers.
     */
    public static int reserve(long openNow, int listeners, int checked) {
        return (int) Math.min(Integer.MAX_VALUE, Math.max(0, openNow) + MARGIN + listeners + checked);
    }

    /** The sessions a limit of {@code limit} descriptors allows with that reserve (at least 1). */
    public static int sessionsAllowed(long limit, int reserve) {
        long n = (limit - reserve) / 2;
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, n));
    }
}
