package io.mailproxy.peers;

import io.mailproxy.config.HostPort;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * HAProxy 2.6's {@code show peers} output ({@code peers_dump_head} and {@code peers_dump_peer} in
 * {@code src/peers.c}), for the section. HAProxy prints memory addresses where it names objects;
 * here they are identity hashes, stable for the object's life. Rendered on the section's loop.
 */
final class ShowPeers {

    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss", Locale.ROOT);

    private ShowPeers() {
    }

    static String render(Peers peers) {
        StringBuilder out = new StringBuilder();
        long remaining = peers.resyncRemainingMillis();
        out.append(ptr(peers)).append(": [")
                .append(DATE.format(Instant.ofEpochMilli(peers.lastChange()).atZone(ZoneId.systemDefault())))
                .append("] id=peers disabled=0 flags=0x").append(Integer.toHexString(peers.flags()))
                .append(" resync_timeout=").append(remaining <= 0 ? "<PAST>" : humanTime(remaining))
                .append(" task_calls=").append(peers.ticks()).append('\n');
        HostPort bind = peers.settings().bind().address();
        out.append("  ").append(ptr(peers.settings())).append(": id=").append(peers.localName())
                .append("(local,inactive) addr=").append(bind).append(" last_status=NONE last_hdshk=<NEVER>\n")
                .append("        reconnect=<NEVER> heartbeat=<NEVER> confirm=0 tx_hbt=0 rx_hbt=0 no_hbt=0 new_conn=0")
                .append(" proto_err=0 coll=0\n        flags=0x0\n");
        long now = System.nanoTime();
        for (PeerNode n : peers.nodes()) {
            out.append("  ").append(ptr(n)).append(": id=").append(n.name()).append("(remote,")
                    .append(n.session != null ? "active" : "inactive").append(") addr=").append(n.settings.address())
                    .append(" last_status=").append(n.lastStatus.shortName())
                    .append(" last_hdshk=").append(n.lastHandshake == 0 ? "<NEVER>" : humanTime(millis(now - n.lastHandshake)))
                    .append('\n');
            long reconnect = millis(n.reconnectAt - now);
            out.append("        reconnect=").append(n.reconnectAt == 0 || reconnect <= 0 ? "<PAST>" : humanTime(reconnect))
                    .append(" heartbeat=").append(n.established() ? humanTime(PeerSession.HEARTBEAT_SECONDS * 1000L) : "<NEVER>")
                    .append(" confirm=0 tx_hbt=").append(n.heartbeatsSent).append(" rx_hbt=").append(n.heartbeatsReceived)
                    .append(" no_hbt=").append(n.heartbeatTimeouts).append(" new_conn=").append(n.newConnections)
                    .append(" proto_err=").append(n.protocolErrors).append(" coll=").append(n.collisions).append('\n');
            out.append("        flags=0x").append(Integer.toHexString(flags(n)));
            if (n.session != null && n.session.channel() != null) {
                out.append(" appctx:").append(ptr(n.session)).append(" st0=").append(n.established() ? 7 : 6)
                        .append(" st1=0 task_calls=0 state=").append(n.session.channel().isActive() ? "EST" : "CON");
                out.append("\n        xprt=").append(peers.settings().tls() != null ? "SSL" : "RAW");
                if (n.session.channel().localAddress() != null && n.session.channel().remoteAddress() != null) {
                    out.append(" src=").append(address(n.session.channel().remoteAddress()))
                            .append(" addr=").append(address(n.session.channel().localAddress()));
                }
            }
            if (!n.cursors.isEmpty()) {
                out.append("\n        shared tables:");
                for (TableCursor c : n.cursors) {
                    io.mailproxy.stick.StickTable t = c.table.table();
                    out.append("\n          ").append(ptr(c)).append(" local_id=").append(c.table.localId())
                            .append(" remote_id=").append(Math.max(0, c.remoteId)).append(" flags=0x0 remote_data=0x")
                            .append(c.remoteId >= 0 ? "80001" : "0");
                    out.append("\n              last_acked=").append(c.lastAcked).append(" last_pushed=")
                            .append(c.lastPushed & 0xFFFF_FFFFL).append(" last_get=").append(c.lastGet)
                            .append(" teaching_origin=").append(c.teachOrigin & 0xFFFF_FFFFL).append(" update=")
                            .append(c.acked & 0xFFFF_FFFFL);
                    out.append("\n              table:").append(ptr(t)).append(" id=").append(t.name()).append(" update=")
                            .append(t.lastUpdate() & 0xFFFF_FFFFL).append(" localupdate=").append(t.lastUpdate() & 0xFFFF_FFFFL)
                            .append(" commitupdate=").append(c.lastPushed & 0xFFFF_FFFFL).append(" refcnt=1");
                    out.append("\n        Dictionary cache not dumped (use \"show peers dict\")");
                }
            }
            out.append('\n');
        }
        return out.toString();
    }

    /** HAProxy's {@code PEER_F_*} bits that apply here. */
    private static int flags(PeerNode n) {
        int f = 0;
        if (n.session != null && n.session.teaching()) {
            f |= 0x1; // PEER_F_TEACH_PROCESS
        }
        if (n.learnAssigned) {
            f |= 0x100; // PEER_F_LEARN_ASSIGN
        }
        if (n.notUpToDate) {
            f |= 0x200; // PEER_F_LEARN_NOTUP2DATE
        }
        if (n.established()) {
            f |= 0x20000000; // PEER_F_ALIVE
        }
        return f;
    }

    private static String address(java.net.SocketAddress a) {
        java.net.InetSocketAddress i = (java.net.InetSocketAddress) a;
        return i.getAddress().getHostAddress() + ":" + i.getPort();
    }

    private static long millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    private static String ptr(Object o) {
        return "0x" + Integer.toHexString(System.identityHashCode(o));
    }

    /** HAProxy's {@code human_time(ms, 1000)}: the two largest units, e.g. "7s", "2m3s", "1d3h". */
    static String humanTime(long ms) {
        long t = ms / 1000;
        StringBuilder s = new StringBuilder();
        int count = 2;
        if (t >= 86400) {
            s.append(t / 86400).append('d');
            count--;
        }
        if (count > 0 && t % 86400 / 3600 != 0) {
            s.append(t % 86400 / 3600).append('h');
            count--;
        }
        if (count > 0 && t % 3600 / 60 != 0) {
            s.append(t % 3600 / 60).append('m');
            count--;
        }
        if ((count > 0 && t % 60 != 0) || t == 0) {
            s.append(t % 60).append('s');
        }
        return s.toString();
    }
}
