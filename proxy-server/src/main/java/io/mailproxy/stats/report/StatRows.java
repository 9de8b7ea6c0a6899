package io.mailproxy.stats.report;

import io.mailproxy.backend.Backend;
import io.mailproxy.backend.Server;
import io.mailproxy.checks.CheckResult;
import io.mailproxy.checks.CheckSchedule;
import io.mailproxy.checks.ServerHealth;
import io.mailproxy.frontend.Frontend;
import io.mailproxy.log.Termination;
import io.mailproxy.mail.MailProtocol;
import io.mailproxy.proxyprotocol.ProxyProtocolError;
import io.mailproxy.session.Session;
import io.mailproxy.stats.ProxyCounters;
import io.mailproxy.stats.Stat;
import io.mailproxy.stats.Statistics;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Builds the statistics' rows from a running proxy, as HAProxy's {@code stats_fill_*_stats()} do:
 * every frontend (a {@code FRONTEND} row), then every backend (a row per server, then its
 * {@code BACKEND} row). The counters are summed over the event loops now; the sessions by phase
 * are counted over the live sessions now.
 */
public final class StatRows {

    private StatRows() {
    }

    /** Counts of live sessions by phase, for one frontend, backend or server. */
    private static final class Phases {
        long header;
        long tls;
        long queued;
        long connecting;
        long relaying;
        long closing;
        long lmtpInTransaction;

        void count(Session s) {
            switch (s.phase()) {
                case HEADER -> header++;
                case TLS -> tls++;
                case CONNECTING -> {
                    if (s.queued()) {
                        queued++;
                    } else {
                        connecting++;
                    }
                }
                case RELAYING -> relaying++;
                case CLOSING -> closing++;
                default -> {
                }
            }
            if (s.frontend().protocol() == MailProtocol.LMTP && s.phase() == Session.Phase.RELAYING
                    && s.conversation().inTransaction()) {
                lmtpInTransaction++;
            }
        }

        void put(Map<String, String> v) {
            v.put(StatFields.SESS_HEADER, Long.toString(header));
            v.put(StatFields.SESS_TLS, Long.toString(tls));
            v.put(StatFields.SESS_QUEUED, Long.toString(queued));
            v.put(StatFields.SESS_CONNECTING, Long.toString(connecting));
            v.put(StatFields.SESS_RELAYING, Long.toString(relaying));
            v.put(StatFields.SESS_CLOSING, Long.toString(closing));
            v.put(StatFields.LMTP_IN_TRANSACTION, Long.toString(lmtpInTransaction));
        }
    }

    /** Every row, frontends first, in configuration order. */
    public static List<StatRow> of(ProxyView view) {
        long now = System.currentTimeMillis();
        Statistics stats = view.statistics();
        Map<String, Phases> byFrontend = new HashMap<>();
        Map<String, Phases> byBackend = new HashMap<>();
        Map<Server, Phases> byServer = new IdentityHashMap<>();
        for (Session s : view.sessions().snapshot()) {
            byFrontend.computeIfAbsent(s.frontend().name(), k -> new Phases()).count(s);
            if (s.phase().compareTo(Session.Phase.CONNECTING) >= 0) {
                byBackend.computeIfAbsent(s.backend().name(), k -> new Phases()).count(s);
            }
            Server server = s.server();
            if (server != null) {
                byServer.computeIfAbsent(server, k -> new Phases()).count(s);
            }
        }
        List<StatRow> rows = new ArrayList<>();
        int iid = 1;
        for (Frontend f : view.frontends()) {
            rows.add(frontend(f, stats.frontend(f.settings().name()), byFrontend.getOrDefault(f.settings().name(),
                    new Phases()), iid++, now));
        }
        for (Backend b : view.backendList()) {
            int sid = 1;
            List<StatRow> servers = new ArrayList<>();
            for (Server s : b.servers()) {
                ServerHealth health = view.healthChecks() == null ? null : view.healthChecks().health(s);
                servers.add(server(b, s, stats.server(s), health, byServer.getOrDefault(s, new Phases()), iid, sid++, now));
            }
            rows.addAll(servers);
            rows.add(backend(b, stats.backend(b.name()), servers, byBackend.getOrDefault(b.name(), new Phases()), iid++, now));
        }
        return rows;
    }

    private static StatRow frontend(Frontend f, ProxyCounters c, Phases phases, int iid, long now) {
        Map<String, String> v = new LinkedHashMap<>();
        String name = f.settings().name();
        v.put("pxname", name);
        v.put("svname", "FRONTEND");
        long scur = f.activeSessions();
        c.sessionsNow(scur);
        v.put("scur", Long.toString(scur));
        v.put("smax", Long.toString(c.maxSessions()));
        v.put("slim", f.settings().maxConnections() == 0 ? "" : Integer.toString(f.settings().maxConnections()));
        v.put("stot", Long.toString(c.get(Stat.SESSIONS)));
        v.put("bin", Long.toString(c.get(Stat.BYTES_IN)));
        v.put("bout", Long.toString(c.get(Stat.BYTES_OUT)));
        v.put("dreq", Long.toString(c.get(Stat.DENIED)));
        v.put("dresp", "0");
        v.put("ereq", Long.toString(c.get(Stat.REQUEST_ERRORS)));
        v.put("status", "OPEN");
        v.put("pid", "1");
        v.put("iid", Integer.toString(iid));
        v.put("sid", "0");
        v.put("type", "0");
        long rate = c.rate(now);
        v.put("rate", Long.toString(rate));
        v.put("rate_lim", "");
        v.put("rate_max", Long.toString(Math.max(rate, c.maxRate())));
        v.put("mode", "tcp");
        v.put("conn_rate", Long.toString(rate));
        v.put("conn_rate_max", Long.toString(Math.max(rate, c.maxRate())));
        v.put("conn_tot", Long.toString(c.get(Stat.SESSIONS)));
        v.put("ssl_sess", Long.toString(c.get(Stat.TLS_HANDSHAKES)));
        v.put("ssl_reused_sess", Long.toString(c.get(Stat.TLS_RESUMED)));
        v.put("ssl_failed_handshake", Long.toString(c.get(Stat.TLS_FAILED)));
        phases.put(v);
        v.put(StatFields.TLS_V1_2, Long.toString(c.get(Stat.TLS_V1_2)));
        v.put(StatFields.TLS_V1_3, Long.toString(c.get(Stat.TLS_V1_3)));
        v.put(StatFields.TLS_RESUMED, Long.toString(c.get(Stat.TLS_RESUMED)));
        v.put(StatFields.TLS_FAILED, Long.toString(c.get(Stat.TLS_FAILED)));
        for (ProxyProtocolError e : ProxyProtocolError.values()) {
            v.put(StatFields.prx(e), Long.toString(c.proxyRejections(e)));
        }
        refusals(c, v);
        return new StatRow(StatRow.Kind.FRONTEND, name, "FRONTEND", v, null, null);
    }

    private static void refusals(ProxyCounters c, Map<String, String> v) {
        v.put(StatFields.REFUSED_BUSY, Long.toString(c.terminations(Termination.QUEUE_FULL)
                + c.terminations(Termination.QUEUE_TIMEOUT)));
        v.put(StatFields.REFUSED_UNAVAILABLE, Long.toString(c.terminations(Termination.NO_SERVER)
                + c.terminations(Termination.CONNECT_TIMEOUT) + c.terminations(Termination.GREETING_TIMEOUT)));
        v.put(StatFields.REFUSED_RATE, Long.toString(c.terminations(Termination.RATE_LIMITED)));
        v.put(StatFields.REFUSED_SOURCE, Long.toString(c.terminations(Termination.SOURCE_LIMIT)));
        v.put(StatFields.REFUSED_UNTRUSTED, Long.toString(c.terminations(Termination.UNTRUSTED_PEER)));
    }

    /** HAProxy's server status words: UP, DOWN, MAINT, DRAIN, {@code no check}. */
    public static String status(Server s, ServerHealth health) {
        return switch (s.adminState()) {
            case MAINT -> "MAINT";
            case DRAIN -> s.healthUp() ? "DRAIN" : "DOWN";
            case READY -> health == null ? (s.healthUp() ? "no check" : "DOWN") : s.healthUp() ? "UP" : "DOWN";
        };
    }

    private static StatRow server(Backend b, Server s, ProxyCounters c, ServerHealth health, Phases phases, int iid,
                                  int sid, long now) {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("pxname", b.name());
        v.put("svname", s.name());
        v.put("qcur", Integer.toString(s.queued()));
        c.queueNow(s.queued());
        v.put("qmax", Long.toString(c.maxQueue()));
        long scur = s.activeSessions();
        c.sessionsNow(scur);
        v.put("scur", Long.toString(scur));
        v.put("smax", Long.toString(c.maxSessions()));
        v.put("slim", s.maxConnections() == 0 ? "" : Integer.toString(s.maxConnections()));
        v.put("stot", Long.toString(c.get(Stat.SESSIONS)));
        v.put("bin", Long.toString(c.get(Stat.BYTES_IN)));
        v.put("bout", Long.toString(c.get(Stat.BYTES_OUT)));
        v.put("dresp", "0");
        v.put("econ", Long.toString(s.connectFailures()));
        v.put("eresp", Long.toString(c.get(Stat.RESPONSE_ERRORS)));
        v.put("wretr", "0");
        v.put("wredis", "0");
        v.put("status", status(s, health));
        v.put("weight", Integer.toString(s.weight()));
        v.put("act", s.backup() ? "0" : "1");
        v.put("bck", s.backup() ? "1" : "0");
        v.put("chkdown", Long.toString(s.downs()));
        v.put("lastchg", Long.toString((now - s.lastChangeMillis()) / 1000));
        v.put("downtime", Long.toString(s.downtimeMillis() / 1000));
        v.put("qlimit", s.maxQueue() == 0 ? "" : Integer.toString(s.maxQueue()));
        v.put("pid", "1");
        v.put("iid", Integer.toString(iid));
        v.put("sid", Integer.toString(sid));
        v.put("lbtot", Long.toString(s.totalSessions()));
        v.put("type", "2");
        activity(v, c, now);
        v.put("addr", hostPort(s));
        v.put("mode", "tcp");
        v.put("uweight", Integer.toString(s.weight()));
        v.put(StatFields.ADMIN_STATE, s.adminState().name());
        if (health != null) {
            CheckSchedule schedule = b.settings().healthCheck().schedule();
            v.put("check_rise", Integer.toString(schedule.rise()));
            v.put("check_fall", Integer.toString(schedule.fall()));
            v.put(StatFields.CHECKS_ENABLED, health.enabled() ? "1" : "0");
            CheckResult r = health.lastResult();
            if (r != null) {
                v.put("check_status", r.status().code());
                v.put("check_code", r.status().reportsCode() ? Integer.toString(r.code()) : "");
                v.put("check_duration", Long.toString(r.durationMillis()));
                v.put("last_chk", r.info());
                v.put("check_desc", r.status().description());
                v.put(StatFields.CHECK_STEP, r.step());
                v.put(StatFields.CHECK_REPLY, r.info());
            }
        }
        phases.put(v);
        refusals(c, v);
        return new StatRow(StatRow.Kind.SERVER, b.name(), s.name(), v, b, s);
    }

    private static StatRow backend(Backend b, ProxyCounters c, List<StatRow> servers, Phases phases, int iid, long now) {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("pxname", b.name());
        v.put("svname", "BACKEND");
        long scur = 0;
        long lbtot = 0;
        long econ = 0;
        long eresp = 0;
        long chkdown = 0;
        long weight = 0;
        int act = 0;
        int bck = 0;
        boolean up = false;
        for (StatRow r : servers) {
            Server s = r.server();
            scur += s.activeSessions();
            lbtot += s.totalSessions();
            econ += s.connectFailures();
            eresp += r.number("eresp");
            chkdown += s.downs();
            if (s.usable()) {
                up = true;
                weight += s.weight();
                if (s.backup()) {
                    bck++;
                } else {
                    act++;
                }
            }
        }
        int qcur = b.queue().size();
        c.queueNow(qcur);
        c.sessionsNow(scur + qcur);
        v.put("qcur", Integer.toString(qcur));
        v.put("qmax", Long.toString(c.maxQueue()));
        v.put("scur", Long.toString(scur + qcur));
        v.put("smax", Long.toString(c.maxSessions()));
        v.put("slim", "");
        v.put("stot", Long.toString(c.get(Stat.SESSIONS)));
        v.put("bin", Long.toString(c.get(Stat.BYTES_IN)));
        v.put("bout", Long.toString(c.get(Stat.BYTES_OUT)));
        v.put("dreq", "0");
        v.put("dresp", "0");
        v.put("econ", Long.toString(econ + c.get(Stat.CONNECT_ERRORS)));
        v.put("eresp", Long.toString(eresp));
        v.put("wretr", Long.toString(c.get(Stat.RETRIES)));
        v.put("wredis", "0");
        v.put("status", up ? "UP" : "DOWN");
        v.put("weight", Long.toString(weight));
        v.put("act", Integer.toString(act));
        v.put("bck", Integer.toString(bck));
        v.put("chkdown", Long.toString(chkdown));
        v.put("lastchg", Long.toString((now - lastChange(servers)) / 1000));
        v.put("downtime", "0");
        v.put("pid", "1");
        v.put("iid", Integer.toString(iid));
        v.put("sid", "0");
        v.put("lbtot", Long.toString(lbtot));
        v.put("type", "1");
        activity(v, c, now);
        v.put("mode", "tcp");
        v.put("algo", b.settings().balance().name().toLowerCase(Locale.ROOT).replace('_', '-'));
        v.put("uweight", Long.toString(weight));
        phases.put(v);
        refusals(c, v);
        return new StatRow(StatRow.Kind.BACKEND, b.name(), "BACKEND", v, b, null);
    }

    /** A server's or backend's session rate, aborts and the time since its last session. */
    private static void activity(Map<String, String> v, ProxyCounters c, long now) {
        long rate = c.rate(now);
        v.put("rate", Long.toString(rate));
        v.put("rate_max", Long.toString(Math.max(rate, c.maxRate())));
        v.put("cli_abrt", Long.toString(c.get(Stat.CLIENT_ABORTS)));
        v.put("srv_abrt", Long.toString(c.get(Stat.SERVER_ABORTS)));
        long last = c.get(Stat.LAST_SESSION_MILLIS);
        v.put("lastsess", last == 0 ? "-1" : Long.toString((now - last) / 1000));
    }

    /** The latest state change among the servers (the backend's own {@code lastchg}). */
    private static long lastChange(List<StatRow> servers) {
        long latest = 0;
        for (StatRow r : servers) {
            latest = Math.max(latest, r.server().lastChangeMillis());
        }
        return latest == 0 ? System.currentTimeMillis() : latest;
    }

    private static String hostPort(Server s) {
        var a = s.address();
        String host = a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
