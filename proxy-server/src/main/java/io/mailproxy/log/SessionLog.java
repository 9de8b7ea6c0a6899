package io.mailproxy.log;

import io.netty.util.NetUtil;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.logging.Logger;

/**
 * The one line logged when a session ends. Its first fields are HAProxy's {@code option tcplog},
 * in HAProxy's order, so that existing log parsers read it unchanged; mailproxy's own fields follow
 * at the end:
 *
 * <pre>
 * %ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq %U reason[: detail]
 * 127.0.0.2:51234 [21/Nov/2026:10:15:02.114] imaps~ imap-pool/dc1 0/1/5012 1380 -- 3/2/2/1/0 0/0 212 ok
 * </pre>
 *
 * {@code %B} is bytes from the server to the client, {@code %U} from the client to the server (both
 * as plaintext); {@code %Tw} the time spent waiting in the queue for a connection slot, {@code %Tc}
 * the time from the accept until the server was connected and greeted (-1 when it never was),
 * {@code %Tt} the session's whole life, all in ms. {@code %s} is the server the session was
 * connected to, or the last one tried when none could be, or {@code <NOSRV>}. {@code %sq}/{@code %bq}
 * are, as in HAProxy, the sessions that were ahead of this one in its server's queue (only sessions
 * waiting for that very server, sent there by a stick table) and in the backend's queue when it
 * entered the queue; 0/0 when it never waited. The frontend name carries HAProxy's {@code ~} when the
 * client spoke TLS. The reason is a {@link Termination} code.
 */
public record SessionLog(InetSocketAddress client, long acceptedAtMillis, String frontend, boolean tls,
                         String backend, String server, long queueMillis, long connectMillis, long totalMillis,
                         long bytesToClient, long bytesFromClient, String state, Termination termination,
                         int activeProcess, int activeFrontend, int activeBackend, int activeServer,
                         int retries, int serverQueue, int backendQueue, String detail) {

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
                .append(bytesToClient).append(' ')
                .append(state).append(' ')
                .append(activeProcess).append('/').append(activeFrontend).append('/').append(activeBackend).append('/')
                .append(activeServer).append('/').append(retries).append(' ')
                .append(serverQueue).append('/').append(backendQueue).append(' ')
                .append(bytesFromClient).append(' ')
                .append(termination.reason());
        if (detail != null && !detail.isEmpty()) {
            // a detail may quote an engine's or a peer's words: it must not end the line
            b.append(": ").append(LogText.oneLine(detail));
        }
        return b.toString();
    }

    public void log() {
        if (termination.routine()) {
            LOGGER.info(format());
        } else {
            LOGGER.warning(format());
        }
    }
}
