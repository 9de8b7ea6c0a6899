package io.mailproxy.stats.report;

import io.mailproxy.proxyprotocol.ProxyProtocolError;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code /metrics}: the statistics' rows as Prometheus metrics, written by the Prometheus Java
 * client's text format writer (0.0.4). Names follow HAProxy's Prometheus exporter where it has one
 * ({@code haproxy_frontend_current_sessions} is {@code mailproxy_frontend_current_sessions}); labels
 * {@code proxy} and {@code server} as there.
 */
public final class PrometheusMetrics {

    /** What the response's Content-Type says. */
    public static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;

    private static final String[] SERVER_STATES = {"UP", "DOWN", "MAINT", "DRAIN", "no check"};
    private static final String[] PHASES = {"header", "tls", "queued", "connecting", "relaying", "closing"};
    private static final String[] PHASE_FIELDS = {StatFields.SESS_HEADER, StatFields.SESS_TLS, StatFields.SESS_QUEUED,
            StatFields.SESS_CONNECTING, StatFields.SESS_RELAYING, StatFields.SESS_CLOSING};

    private PrometheusMetrics() {
    }

    /** One metric family being collected: its data points by labels. */
    private static final class Family {
        final String name;
        final String help;
        final boolean counter;
        final Map<Labels, Double> points = new LinkedHashMap<>();

        Family(String name, String help, boolean counter) {
            this.name = name;
            this.help = help;
            this.counter = counter;
        }

        MetricSnapshot snapshot() {
            if (counter) {
                CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(help);
                points.forEach((l, v) -> b.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().labels(l).value(v).build()));
                return b.build();
            }
            GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(name).help(help);
            points.forEach((l, v) -> b.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(l).value(v).build()));
            return b.build();
        }
    }

    /** Collects families in the order they are first named. */
    private static final class Families {
        final Map<String, Family> byName = new LinkedHashMap<>();

        void gauge(String name, String help, Labels labels, double value) {
            byName.computeIfAbsent(name, n -> new Family(n, help, false)).points.put(labels, value);
        }

        void counter(String name, String help, Labels labels, double value) {
            byName.computeIfAbsent(name, n -> new Family(n, help, true)).points.put(labels, value);
        }

        /** A field of a row as a gauge or counter, when the row has it. */
        void field(StatRow r, String field, String name, String help, Labels labels, boolean counter) {
            String v = r.get(field);
            if (v.isEmpty()) {
                return;
            }
            double d = Double.parseDouble(v);
            if (counter) {
                counter(name, help, labels, d);
            } else {
                gauge(name, help, labels, d);
            }
        }

        MetricSnapshots snapshots() {
            List<MetricSnapshot> out = new ArrayList<>();
            for (Family f : byName.values()) {
                out.add(f.snapshot());
            }
            return new MetricSnapshots(out);
        }
    }

    /** The metrics of {@code view} now. */
    public static MetricSnapshots collect(ProxyView view) {
        Families m = new Families();
        m.gauge("mailproxy_process_current_sessions", "Sessions of the whole process that have not ended.", Labels.EMPTY,
                view.activeSessions());
        m.counter("mailproxy_process_dropped_log_lines", "Log lines dropped because the output did not keep up.",
                Labels.EMPTY, view.droppedLogLines());
        for (StatRow r : StatRows.of(view)) {
            switch (r.kind()) {
                case FRONTEND -> frontend(m, r);
                case BACKEND -> proxyCommon(m, r, "backend", Labels.of("proxy", r.pxname()));
                case SERVER -> server(m, r);
            }
        }
        return m.snapshots();
    }

    /** The metrics of {@code view} in the Prometheus text format. */
    public static byte[] text(ProxyView view) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
        try {
            PrometheusTextFormatWriter.create().write(out, collect(view), EscapingScheme.UNDERSCORE_ESCAPING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static void frontend(Families m, StatRow r) {
        Labels l = Labels.of("proxy", r.pxname());
        proxyCommon(m, r, "frontend", l);
        m.field(r, "dreq", "mailproxy_frontend_denied_connections", "Connections refused before a server was asked.", l, true);
        m.field(r, "ereq", "mailproxy_frontend_request_errors", "Sessions ended by an invalid PROXY header or a failed TLS handshake.", l, true);
        m.field(r, "ssl_sess", "mailproxy_frontend_tls_handshakes", "TLS handshakes completed.", l, true);
        m.field(r, "ssl_reused_sess", "mailproxy_frontend_tls_resumed_handshakes", "TLS handshakes that resumed a session.", l, true);
        m.field(r, "ssl_failed_handshake", "mailproxy_frontend_tls_failed_handshakes", "TLS handshakes that failed or timed out.", l, true);
        m.field(r, StatFields.TLS_V1_2, "mailproxy_frontend_tls_handshakes_by_version",
                "TLS handshakes completed, by protocol version.", l.add("version", "TLSv1.2"), true);
        m.field(r, StatFields.TLS_V1_3, "mailproxy_frontend_tls_handshakes_by_version",
                "TLS handshakes completed, by protocol version.", l.add("version", "TLSv1.3"), true);
        for (ProxyProtocolError e : ProxyProtocolError.values()) {
            m.field(r, StatFields.prx(e), "mailproxy_frontend_proxy_header_rejections",
                    "Connections whose PROXY header was refused, by HAProxy's PRX_* reason.", l.add("reason", e.code()), true);
        }
    }

    private static void proxyCommon(Families m, StatRow r, String kind, Labels l) {
        String p = "mailproxy_" + kind + "_";
        m.field(r, "scur", p + "current_sessions", "Sessions open now.", l, false);
        m.field(r, "smax", p + "max_sessions", "The most sessions open at once.", l, false);
        m.field(r, "stot", p + "sessions", "Sessions in all.", l, true);
        m.field(r, "bin", p + "bytes_in", "Bytes from clients.", l, true);
        m.field(r, "bout", p + "bytes_out", "Bytes to clients.", l, true);
        m.field(r, "rate", p + "current_session_rate", "Sessions per second over the last second.", l, false);
        for (int i = 0; i < PHASES.length; i++) {
            m.field(r, PHASE_FIELDS[i], p + "sessions_by_phase", "Sessions open now, by phase.", l.add("phase", PHASES[i]), false);
        }
        m.field(r, StatFields.LMTP_IN_TRANSACTION, p + "lmtp_sessions_in_transaction",
                "LMTP sessions in a mail transaction (from MAIL FROM to the last reply to its data).", l, false);
        refusals(m, r, p, l);
        if (!kind.equals("frontend")) {
            m.field(r, "qcur", p + "current_queue", "Sessions waiting for a connection slot.", l, false);
            m.field(r, "econ", p + "connection_errors", "Failed connection attempts to servers.", l, true);
            m.field(r, "eresp", p + "response_errors", "Sessions the server ended without its goodbye.", l, true);
            m.field(r, "wretr", p + "retry_warnings", "Connection attempts retried.", l, true);
            m.field(r, "cli_abrt", p + "client_aborts", "Sessions the client aborted.", l, true);
            m.field(r, "srv_abrt", p + "server_aborts", "Sessions the server aborted.", l, true);
            m.field(r, "weight", p + "weight", "Weight (a backend: of its usable servers).", l, false);
        }
        if (kind.equals("backend")) {
            m.gauge(p + "status", "1 when some server is usable.", l, "UP".equals(r.get("status")) ? 1 : 0);
            m.field(r, "act", p + "active_servers", "Usable normal servers.", l, false);
            m.field(r, "bck", p + "backup_servers", "Usable backup servers.", l, false);
        }
    }

    private static void refusals(Families m, StatRow r, String p, Labels l) {
        String[][] reasons = {{StatFields.REFUSED_BUSY, "busy"}, {StatFields.REFUSED_UNAVAILABLE, "unavailable"},
                {StatFields.REFUSED_RATE, "rate"}, {StatFields.REFUSED_SOURCE, "per-source"},
                {StatFields.REFUSED_UNTRUSTED, "untrusted"}};
        for (String[] reason : reasons) {
            m.field(r, reason[0], p + "refusals", "Sessions refused, by reason.", l.add("reason", reason[1]), true);
        }
    }

    private static void server(Families m, StatRow r) {
        Labels l = Labels.of("proxy", r.pxname(), "server", r.svname());
        proxyCommon(m, r, "server", l);
        String status = r.get("status");
        for (String s : SERVER_STATES) {
            m.gauge("mailproxy_server_status", "The server's state (HAProxy's words), 1 for the current one.",
                    l.add("state", s), s.equals(status) ? 1 : 0);
        }
        m.field(r, "check_duration", "mailproxy_server_check_duration_milliseconds", "How long the last check took.", l, false);
        String check = r.get("check_status");
        if (!check.isEmpty()) {
            m.gauge("mailproxy_server_check_status", "The last check's status (HAProxy's code) and how far it got, 1.",
                    l.add("status", check).add("step", r.get(StatFields.CHECK_STEP)), 1);
        }
        m.field(r, "chkdown", "mailproxy_server_check_down_transitions", "Times the server went DOWN.", l, true);
        m.field(r, "downtime", "mailproxy_server_downtime_seconds", "Time spent DOWN in all.", l, true);
    }
}
