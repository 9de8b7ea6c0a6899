package io.mailproxy.log;

import io.netty.util.NetUtil;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.logging.Logger;

/**
 * The one line logged when a session ends, shaped like HAProxy's {@code option tcplog} so that
 * existing log parsers and habits carry over:
 *
 * <pre>
 * %ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %U %ts %ac/%fc/%bc/%sc/%rc %sq/%bq reason[: detail]
 * 127.0.0.2:51234 [21/Nov/2026:10:15:02.114] imaps~ imap-pool/dc1 0/1/5012 1380 212 -- 3/2/2/1/0 0/0 ok
 * </pre>
 *
 * {@code %B} is bytes from the server to the client, {@code %U} from the client to the server
 * (both as plaintext), {@code %Tw} the time spent waiting in the queue for a connection slot, {@code %Tc} the
 * connect time (-1 when no server was connected), {@code %Tt} the session's whole life, all in ms.
 * {@code %sq}/{@code %bq} are, as in HAProxy, the sessions that were ahead of this one in its
 * server's queue (only sessions waiting for that very server, sent there by a stick table) and in
 * the backend's queue when it entered the queue; 0/0 when it never waited.
 * The frontend name carries HAProxy's {@code ~} when the client spoke TLS.
 */
public record SessionLog(InetSocketAddress client, long acceptedAtMillis, String frontend, boolean tls,
                         String backend, String server, long connectMillis, long totalMillis,
                         long bytesToClient, long bytesFromClient, Termination termination,
                         int activeProcess, int activeFrontend, int activeBackend, int activeServer,
                         int retries, String detail, long queueMillis, int serverQueue, int backendQueue) {

    /** A line for a session that never waited in a queue. */
    public SessionLog(InetSocketAddress client, long acceptedAtMillis, String frontend, boolean tls,
                      String backend, String server, long connectMillis, long totalMillis,
                      long bytesToClient, long bytesFromClient, Termination termination,
                      int activeProcess, int activeFrontend, int activeBackend, int activeServer,
                      int retries, String detail) {
        this(client, acceptedAtMillis, frontend, tls, backend, server, connectMillis, totalMillis, bytesToClient,
                bytesFromClient, termination, activeProcess, activeFrontend, activeBackend, activeServer, retries,
                detail, 0, 0, 0);
    }

    /** The logger sessions are logged to: one INFO line each, WARNING when the ending was abnormal. */
    public static final Logger LOGGER = Logger.getLogger("mailproxy.session");

    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss.SSS", Locale.ROOT).withZone(ZoneId.systemDefault());

    /** The log line, without the logger's own prefix. */
    public String format() {
        StringBuilder b = new StringBuilder(160);
        b.append(client.getAddress() == null ? client.getHostString() : NetUtil.toAddressString(client.getAddress()))
                .append(':').append(client.getPort())
                .append(" [").append(TIME.format(Instant.ofEpochMilli(acceptedAtMillis))).append("] ")
                .append(frontend).append(tls ? "~" : "").append(' ')
                .append(backend == null ? frontend : backend).append('/').append(server == null ? "<NOSRV>" : server).append(' ')
                .append(queueMillis).append('/').append(connectMillis).append('/').append(totalMillis).append(' ')
                .append(bytesToClient).append(' ').append(bytesFromClient).append(' ')
                .append(termination.state()).append(' ')
                .append(activeProcess).append('/').append(activeFrontend).append('/').append(activeBackend).append('/')
                .append(activeServer).append('/').append(retries).append(' ')
                .append(serverQueue).append('/').append(backendQueue).append(' ')
                .append(termination.reason());
        if (detail != null && !detail.isEmpty()) {
            b.append(": ").append(detail);
        }
        return b.toString();
    }

    public void log() {
        if (termination == Termination.NORMAL || termination == Termination.IDLE_TIMEOUT) {
            LOGGER.info(format());
        } else {
            LOGGER.warning(format());
        }
    }
}
