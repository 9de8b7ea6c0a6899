package io.mailproxy.stats.report;

import io.mailproxy.backend.Server;
import io.mailproxy.proxyprotocol.ProxyProtocolError;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The HTML statistics page, laid out as HAProxy's: one table per frontend and backend with HAProxy's
 * column groups (Queue, Session rate, Sessions, Bytes, Denied, Errors, Warnings, Server), a row per
 * server coloured by its state, a totals row, then mailproxy's own columns; under a backend, for an
 * admin, the form of HAProxy's "Choose the action to perform on the checked servers".
 */
public final class StatsPage {

    /** The admin actions, by their HAProxy form values, with their labels. */
    public static final List<String[]> ACTIONS = List.of(
            new String[] {"ready", "Set state to READY"},
            new String[] {"drain", "Set state to DRAIN"},
            new String[] {"maint", "Set state to MAINT"},
            new String[] {"dhlth", "Health: disable checks"},
            new String[] {"ehlth", "Health: enable checks"},
            new String[] {"hrunn", "Health: force UP"},
            new String[] {"hdown", "Health: force DOWN"},
            new String[] {"shutdown", "Kill Sessions"});

    private static final String STYLE = """
            body { font-family: arial, helvetica, sans-serif; font-size: 12px; background: #fff; color: #000; }
            h1 { font-size: 16px; background: #20d0d0; padding: 4px; }
            table.tbl { border-collapse: collapse; border-style: none; margin-top: 12px; }
            table.tbl td, table.tbl th { border: 1px solid #999; padding: 1px 4px; text-align: right; white-space: nowrap; }
            table.tbl td.ac, table.tbl th.ac { text-align: center; }
            table.tbl td.al { text-align: left; }
            th.pxname { background: #b00040; color: #ffff40; font-weight: bold; text-align: left; }
            tr.titre th { background: #20d0d0; color: #000; text-align: center; }
            tr.frontend td { background: #fff; }
            tr.backend td { background: #e8e8d0; font-weight: bold; }
            tr.active_up td { background: #c0ffc0; }
            tr.active_down td { background: #ff9090; }
            tr.active_no_check td { background: #e0e0e0; }
            tr.active_draining td { background: #20a0ff; }
            tr.maintain td { background: #c07820; }
            tr.backup_up td { background: #b0d0ff; }
            tr.backup_down td { background: #ff9090; }
            td.mp, th.mp { background: #f0f0ff; }
            p.extra { margin: 2px 0 0 0; }
            .done { background: #a0ffa0; padding: 4px; }
            .failed { background: #ffa0a0; padding: 4px; }
            """;

    private StatsPage() {
    }

    /**
     * The page.
     *
     * @param token   the admin token for this user's forms, or null: no admin controls at all
     * @param refresh the reload interval; zero = none
     * @param notice  a line about the last action ({@code DONE ...}/{@code FAILED ...}), or null
     */
    public static String render(ProxyView view, List<StatRow> rows, String token, Duration refresh, String notice) {
        StringBuilder b = new StringBuilder(32 * 1024);
        b.append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Statistics Report for mailproxy</title>\n");
        if (!refresh.isZero()) {
            b.append("<meta http-equiv=\"refresh\" content=\"").append(Math.max(1, refresh.toSeconds())).append("\">\n");
        }
        b.append("<style>").append(STYLE).append("</style></head><body>\n");
        b.append("<h1>mailproxy statistics</h1>\n<p>").append(view.activeSessions()).append(" session(s) open")
                .append(view.maxConnections() == 0 ? "" : " of at most " + view.maxConnections())
                .append("; up ").append(ago(System.currentTimeMillis() - view.statistics().startedAtMillis()))
                .append("; <a href=\"/stats;csv\">CSV</a>, <a href=\"/metrics\">Prometheus</a></p>\n");
        if (notice != null) {
            b.append("<p class=\"").append(notice.startsWith("DONE") ? "done" : "failed").append("\" id=\"notice\">")
                    .append(escape(notice)).append("</p>\n");
        }
        List<StatRow> group = new ArrayList<>();
        for (StatRow r : rows) {
            if (r.kind() == StatRow.Kind.FRONTEND) {
                table(b, r.pxname(), "frontend", List.of(r), null);
                frontendExtras(b, r);
            } else {
                group.add(r);
                if (r.kind() == StatRow.Kind.BACKEND) {
                    table(b, r.pxname(), "backend", group, token);
                    group = new ArrayList<>();
                }
            }
        }
        b.append("</body></html>\n");
        return b.toString();
    }

    private static void table(StringBuilder b, String name, String kind, List<StatRow> rows, String token) {
        boolean admin = token != null && kind.equals("backend");
        if (admin) {
            b.append("<form method=\"post\" action=\"/stats\" id=\"form-").append(escape(name)).append("\">\n")
                    .append("<input type=\"hidden\" name=\"b\" value=\"").append(escape(name)).append("\">")
                    .append("<input type=\"hidden\" name=\"token\" value=\"").append(escape(token)).append("\">\n");
        }
        b.append("<table class=\"tbl\" id=\"").append(kind).append('-').append(escape(name)).append("\">\n");
        b.append("<tr class=\"titre\"><th class=\"pxname\" colspan=\"").append(admin ? 2 : 1).append("\">")
                .append(escape(name)).append("</th>")
                .append("<th colspan=\"3\">Queue</th><th colspan=\"3\">Session rate</th><th colspan=\"6\">Sessions</th>")
                .append("<th colspan=\"2\">Bytes</th><th colspan=\"2\">Denied</th><th colspan=\"3\">Errors</th>")
                .append("<th colspan=\"2\">Warnings</th><th colspan=\"9\">Server</th>")
                .append("<th colspan=\"6\" class=\"mp\">mailproxy</th></tr>\n");
        b.append("<tr class=\"titre\">").append(admin ? "<th></th>" : "").append("<th></th>");
        for (String h : new String[] {"Cur", "Max", "Limit", "Cur", "Max", "Limit", "Cur", "Max", "Limit", "Total",
                "LbTot", "Last", "In", "Out", "Req", "Resp", "Req", "Conn", "Resp", "Retr", "Redis", "Status", "LastChk",
                "Wght", "Act", "Bck", "Chk", "Dwn", "Dwntme", "Thrtle"}) {
            b.append("<th>").append(h).append("</th>");
        }
        for (String h : new String[] {"Hdr/TLS", "Queued", "Relaying", "LMTP txn", "Check step", "Check reply"}) {
            b.append("<th class=\"mp\">").append(h).append("</th>");
        }
        b.append("</tr>\n");
        for (StatRow r : rows) {
            row(b, r, admin);
        }
        b.append("</table>\n");
        if (admin) {
            b.append("Choose the action to perform on the checked servers : <select name=\"action\" id=\"action-")
                    .append(escape(name)).append("\">");
            for (String[] a : ACTIONS) {
                b.append("<option value=\"").append(a[0]).append("\">").append(a[1]).append("</option>");
            }
            b.append("</select> <input type=\"submit\" value=\"Apply\" id=\"apply-").append(escape(name)).append("\">\n</form>\n");
        }
    }

    private static void row(StringBuilder b, StatRow r, boolean admin) {
        String id = "row-" + r.pxname() + "-" + r.svname();
        b.append("<tr class=\"").append(rowClass(r)).append("\" id=\"").append(escape(id)).append("\">");
        if (admin) {
            b.append("<td class=\"ac\">");
            if (r.server() != null) {
                b.append("<input type=\"checkbox\" name=\"s\" value=\"").append(escape(r.svname())).append("\" id=\"check-")
                        .append(escape(r.pxname() + "-" + r.svname())).append("\">");
            }
            b.append("</td>");
        }
        boolean total = r.kind() != StatRow.Kind.SERVER;
        b.append("<td class=\"al\">").append(total ? (r.kind() == StatRow.Kind.FRONTEND ? "Frontend" : "Backend")
                : escape(r.svname())).append("</td>");
        cells(b, r, "qcur", "qmax", "qlimit", "rate", "rate_max", "rate_lim", "scur", "smax", "slim", "stot", "lbtot");
        b.append("<td>").append(last(r.get("lastsess"))).append("</td>");
        cells(b, r, "bin", "bout", "dreq", "dresp", "ereq", "econ", "eresp", "wretr", "wredis");
        String status = r.get("status");
        b.append("<td class=\"ac status\">").append(r.kind() == StatRow.Kind.FRONTEND ? "OPEN"
                : ago(r.number("lastchg") * 1000) + " " + escape(status)).append("</td>");
        String check = r.get("check_status");
        b.append("<td class=\"ac\">").append(check.isEmpty() ? "" : escape(check) + " in "
                + escape(r.get("check_duration")) + "ms").append("</td>");
        cells(b, r, "weight");
        b.append("<td class=\"ac\">").append(r.kind() == StatRow.Kind.SERVER ? ("1".equals(r.get("act")) ? "Y" : "-")
                : escape(r.get("act"))).append("</td>");
        b.append("<td class=\"ac\">").append(r.kind() == StatRow.Kind.SERVER ? ("1".equals(r.get("bck")) ? "Y" : "-")
                : escape(r.get("bck"))).append("</td>");
        cells(b, r, "chkfail", "chkdown");
        b.append("<td>").append(r.kind() == StatRow.Kind.FRONTEND ? "" : ago(r.number("downtime") * 1000)).append("</td>");
        b.append("<td class=\"ac\">-</td>");
        b.append("<td class=\"mp\">").append(r.number(StatFields.SESS_HEADER) + r.number(StatFields.SESS_TLS)).append("</td>");
        b.append("<td class=\"mp\">").append(r.number(StatFields.SESS_QUEUED)).append("</td>");
        b.append("<td class=\"mp\">").append(r.number(StatFields.SESS_RELAYING)).append("</td>");
        b.append("<td class=\"mp\">").append(r.number(StatFields.LMTP_IN_TRANSACTION)).append("</td>");
        b.append("<td class=\"mp al\">").append(escape(r.get(StatFields.CHECK_STEP))).append("</td>");
        b.append("<td class=\"mp al\">").append(escape(r.get(StatFields.CHECK_REPLY))).append("</td>");
        b.append("</tr>\n");
    }

    private static void frontendExtras(StringBuilder b, StatRow r) {
        b.append("<p class=\"extra\" id=\"extra-").append(escape(r.pxname())).append("\">TLS handshakes: ")
                .append(r.get("ssl_sess")).append(" (TLSv1.3 ").append(r.get(StatFields.TLS_V1_3)).append(", TLSv1.2 ")
                .append(r.get(StatFields.TLS_V1_2)).append(", resumed ").append(r.get(StatFields.TLS_RESUMED))
                .append(", failed ").append(r.get(StatFields.TLS_FAILED)).append("); refused: busy ")
                .append(r.get(StatFields.REFUSED_BUSY)).append(", unavailable ").append(r.get(StatFields.REFUSED_UNAVAILABLE))
                .append(", rate ").append(r.get(StatFields.REFUSED_RATE)).append(", per-source ")
                .append(r.get(StatFields.REFUSED_SOURCE)).append(", untrusted ").append(r.get(StatFields.REFUSED_UNTRUSTED))
                .append("; PROXY header rejections:");
        boolean any = false;
        for (ProxyProtocolError e : ProxyProtocolError.values()) {
            long n = r.number(StatFields.prx(e));
            if (n > 0) {
                b.append(' ').append(e.code()).append(' ').append(n);
                any = true;
            }
        }
        b.append(any ? "" : " none").append("; by phase: header ").append(r.get(StatFields.SESS_HEADER)).append(", TLS ")
                .append(r.get(StatFields.SESS_TLS)).append(", queued ").append(r.get(StatFields.SESS_QUEUED))
                .append(", connecting ").append(r.get(StatFields.SESS_CONNECTING)).append(", relaying ")
                .append(r.get(StatFields.SESS_RELAYING)).append(", LMTP in a transaction ")
                .append(r.get(StatFields.LMTP_IN_TRANSACTION)).append("</p>\n");
    }

    /** HAProxy's row classes, which carry its colours. */
    private static String rowClass(StatRow r) {
        if (r.kind() == StatRow.Kind.FRONTEND) {
            return "frontend";
        }
        if (r.kind() == StatRow.Kind.BACKEND) {
            return "backend";
        }
        Server s = r.server();
        String prefix = s.backup() ? "backup_" : "active_";
        return switch (r.get("status")) {
            case "MAINT" -> "maintain";
            case "DRAIN" -> "active_draining";
            case "DOWN" -> prefix + "down";
            case "no check" -> s.backup() ? "backup_up" : "active_no_check";
            default -> prefix + "up";
        };
    }

    private static void cells(StringBuilder b, StatRow r, String... fields) {
        for (String f : fields) {
            b.append("<td>").append(escape(r.get(f))).append("</td>");
        }
    }

    private static String last(String seconds) {
        if (seconds.isEmpty() || seconds.equals("-1")) {
            return "";
        }
        return ago(Long.parseLong(seconds) * 1000);
    }

    /** A duration as HAProxy's page writes it: {@code 10m41s}, {@code 20d2h}. */
    static String ago(long millis) {
        long s = Math.max(0, millis / 1000);
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return s / 60 + "m" + s % 60 + "s";
        }
        if (s < 86400) {
            return s / 3600 + "h" + s % 3600 / 60 + "m";
        }
        return s / 86400 + "d" + s % 86400 / 3600 + "h";
    }

    /** HTML-escapes text for element content and attribute values. */
    public static String escape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
