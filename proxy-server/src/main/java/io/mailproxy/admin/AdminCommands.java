package io.mailproxy.admin;

import io.mailproxy.backend.Backend;
import io.mailproxy.backend.Server;
import io.mailproxy.checks.CheckResult;
import io.mailproxy.checks.CheckStatus;
import io.mailproxy.checks.ServerHealth;
import io.mailproxy.session.Session;
import io.mailproxy.stats.report.ProxyView;
import io.mailproxy.stats.report.StatRows;
import io.mailproxy.stats.report.StatsCsv;
import io.mailproxy.stick.StickTable;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The runtime API's commands, in HAProxy's names, arguments, answers and output formats: each
 * command line gives its whole answer as text, ending with an empty line as HAProxy's CLI does.
 * Unknown names get HAProxy's "No such backend." / "No such server." / "No such table".
 */
public final class AdminCommands {

    /** {@code help}: the commands, as HAProxy lists them. */
    static final String HELP = """
            The following commands are valid at this level:
              help                                    : list matching or all commands
              prompt                                  : toggle interactive mode with prompt
              quit                                    : disconnect
              show info                               : report information about the running process
              show stat                               : report counters for each proxy and server
              show servers state [<backend>]          : dump volatile server information (all or for a single backend)
              show sess                               : report the list of current sessions
              show table [<table> [key <k>]]          : report table usage stats or dump this table's contents
              show peers                              : dump peers contents
              clear table <table> [key <k>]           : remove an entry from a table
              set server <bk>/<srv> state ready|drain|maint : change a server's administrative state
              set server <bk>/<srv> weight <w>        : change a server's weight (0..256)
              set server <bk>/<srv> health up|down    : force a server's health state
              enable health <bk>/<srv>                : enable health checks
              disable health <bk>/<srv>               : disable health checks
              set maxconn server <bk>/<srv> <n>       : change a server's maxconn setting (0 = no limit)
              shutdown sessions server <bk>/<srv>     : kill sessions on a server
              reload                                  : re-read the configuration file and apply it (as SIGHUP)
            """;

    /** The header of {@code show servers state}, version 1 of HAProxy's format. */
    static final String SERVERS_STATE_HEADER = "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state"
            + " srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health"
            + " srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl"
            + " srv_check_port srv_check_addr srv_agent_addr srv_agent_port";

    private final ProxyView view;
    private final ServerActions actions;

    public AdminCommands(ProxyView view) {
        this.view = view;
        this.actions = new ServerActions(view);
    }

    /** The answer to one command line (without its line end). */
    public String execute(String line) {
        List<String> w = words(line);
        if (w.isEmpty()) {
            return "";
        }
        try {
            return switch (w.get(0)) {
                case "help" -> HELP + "\n";
                case "show" -> show(w);
                case "clear" -> w.size() >= 3 && w.get(1).equals("table") ? clearTable(w) : unknown(line);
                case "set" -> set(w, line);
                case "enable", "disable" -> w.size() == 3 && w.get(1).equals("health")
                        ? onServer(w.get(2), (b, s) -> actions.checks(s, w.get(0).equals("enable"))) : unknown(line);
                case "reload" -> w.size() == 1 ? view.reloadFromFile() + "\n\n" : unknown(line);
                case "shutdown" -> w.size() == 4 && w.get(1).equals("sessions") && w.get(2).equals("server")
                        ? onServer(w.get(3), (b, s) -> actions.shutdownSessions(s)) : unknown(line);
                default -> unknown(line);
            };
        } catch (RuntimeException e) {
            return "Internal error: " + e.getMessage() + "\n\n";
        }
    }

    private String show(List<String> w) {
        String what = w.size() > 1 ? w.get(1) : "";
        return switch (what) {
            case "info" -> info();
            case "stat" -> StatsCsv.of(StatRows.of(view));
            case "servers" -> w.size() >= 3 && w.get(2).equals("state") ? serversState(w.size() > 3 ? w.get(3) : null)
                    : unknown(String.join(" ", w));
            case "sess" -> sessions();
            case "table" -> showTable(w);
            case "peers" -> view.showPeers() + "\n";
            default -> unknown(String.join(" ", w));
        };
    }

    private String set(List<String> w, String line) {
        if (w.size() == 5 && w.get(1).equals("server")) {
            String arg = w.get(4).toLowerCase(Locale.ROOT);
            return switch (w.get(3)) {
                case "state" -> switch (arg) {
                    case "ready" -> onServer(w.get(2), (b, s) -> actions.state(b, s, Server.AdminState.READY));
                    case "drain" -> onServer(w.get(2), (b, s) -> actions.state(b, s, Server.AdminState.DRAIN));
                    case "maint" -> onServer(w.get(2), (b, s) -> actions.state(b, s, Server.AdminState.MAINT));
                    default -> "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n";
                };
                case "health" -> switch (arg) {
                    case "up" -> onServer(w.get(2), (b, s) -> actions.health(b, s, true));
                    case "down" -> onServer(w.get(2), (b, s) -> actions.health(b, s, false));
                    default -> "'set server <srv> health' expects 'up', 'stopping', or 'down'.\n\n";
                };
                case "weight" -> {
                    Integer n = number(w.get(4));
                    yield n == null ? "Require <weight>.\n\n" : onServer(w.get(2), (b, s) -> actions.weight(b, s, n));
                }
                default -> "'set server <srv>' only supports 'agent', 'health', 'state', 'weight', 'addr', 'fqdn' and 'check-addr'.\n\n";
            };
        }
        if (w.size() == 5 && w.get(1).equals("maxconn") && w.get(2).equals("server")) {
            Integer n = number(w.get(4));
            return n == null ? "Integer value expected.\n\n" : onServer(w.get(3), (b, s) -> actions.maxConnections(b, s, n));
        }
        return unknown(line);
    }

    /** An action on {@code backend/server}. */
    private interface OnServer {
        String apply(Backend b, Server s);
    }

    private String onServer(String qualified, OnServer action) {
        int slash = qualified.indexOf('/');
        if (slash <= 0) {
            return "Require 'backend/server'.\n\n";
        }
        Backend b = actions.backend(qualified.substring(0, slash));
        if (b == null) {
            return "No such backend.\n\n";
        }
        Server s = b.server(qualified.substring(slash + 1));
        if (s == null) {
            return "No such server.\n\n";
        }
        String error = action.apply(b, s);
        return error == null ? "\n" : error + "\n\n";
    }

    private String info() {
        long now = System.currentTimeMillis();
        long up = (now - view.statistics().startedAtMillis()) / 1000;
        Map<String, Object> i = new LinkedHashMap<>();
        i.put("Name", "mailproxy");
        Package p = AdminCommands.class.getPackage();
        i.put("Version", p.getImplementationVersion() == null ? "dev" : p.getImplementationVersion());
        i.put("Nbthread", Thread.activeCount());
        i.put("Pid", ProcessHandle.current().pid());
        i.put("Uptime", up / 86400 + "d " + up % 86400 / 3600 + "h" + String.format("%02dm%02ds", up % 3600 / 60, up % 60));
        i.put("Uptime_sec", up);
        i.put("Start_time_sec", view.statistics().startedAtMillis() / 1000);
        i.put("Memmax_MB", Runtime.getRuntime().maxMemory() / (1024 * 1024));
        i.put("Maxconn", view.maxConnections());
        i.put("CurrConns", view.activeSessions());
        long cum = 0;
        long sslCum = 0;
        long rate = 0;
        for (var f : view.frontends()) {
            var c = view.statistics().frontend(f.settings().name());
            cum += c.get(io.mailproxy.stats.Stat.SESSIONS);
            sslCum += c.get(io.mailproxy.stats.Stat.TLS_HANDSHAKES);
            rate += c.rate(now);
        }
        i.put("CumConns", cum);
        i.put("CumSslConns", sslCum);
        i.put("ConnRate", rate);
        i.put("SessRate", rate);
        i.put("Listeners", view.frontends().stream().mapToInt(f -> f.settings().bind().size()).sum());
        i.put("DroppedLogs", view.droppedLogLines());
        StringBuilder b = new StringBuilder();
        i.forEach((k, v) -> b.append(k).append(": ").append(v).append('\n'));
        return b.append('\n').toString();
    }

    private String serversState(String only) {
        StringBuilder b = new StringBuilder("1\n").append(SERVERS_STATE_HEADER).append('\n');
        long now = System.currentTimeMillis();
        int beId = view.frontends().size() + 1;
        boolean found = only == null;
        for (Backend be : view.backendList()) {
            int id = beId++;
            if (only != null && !only.equals(be.name())) {
                continue;
            }
            found = true;
            int sid = 1;
            for (Server s : be.servers()) {
                ServerHealth h = view.healthChecks() == null ? null : view.healthChecks().health(s);
                CheckResult r = h == null ? null : h.lastResult();
                int op = s.isUp() ? 2 : 0;
                int admin = switch (s.adminState()) {
                    case READY -> 0;
                    case DRAIN -> 0x08;
                    case MAINT -> 0x01;
                };
                InetSocketAddress a = s.address();
                String addr = a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
                int checkState = h == null ? 0 : h.enabled() ? 6 : 2;
                int checkResult = r == null ? 0 : r.passed() ? 3 : 2;
                int health = h == null ? 0 : s.healthUp() ? be.settings().healthCheck().schedule().rise()
                        + be.settings().healthCheck().schedule().fall() - 1 : 0;
                b.append(id).append(' ').append(be.name()).append(' ').append(sid++).append(' ').append(s.name())
                        .append(' ').append(addr).append(' ').append(op).append(' ').append(admin).append(' ')
                        .append(s.weight()).append(' ').append(be.settings().servers().get(sid - 2).weight()).append(' ')
                        .append((now - s.lastChangeMillis()) / 1000).append(' ').append(checkStatus(r)).append(' ')
                        .append(checkResult).append(' ').append(health).append(' ').append(checkState)
                        .append(" 0 0 0 - ").append(a.getPort()).append(" - 0 0 - - 0\n");
            }
        }
        if (!found) {
            return "Can't find backend.\n\n";
        }
        return b.append('\n').toString();
    }

    /** HAProxy's {@code enum healthcheck_status} number of a result (0 unknown). */
    static int checkStatus(CheckResult r) {
        if (r == null) {
            return 0;
        }
        CheckStatus s = r.status();
        return switch (s) {
            case SOCKERR -> 5;
            case L4OK -> 6;
            case L4TOUT -> 7;
            case L4CON -> 8;
            case L6OK -> 9;
            case L6TOUT -> 10;
            case L6RSP -> 11;
            case L7TOUT -> 12;
            case L7RSP -> 13;
            case L7OK -> 15;
            case L7STS -> 17;
        };
    }

    private String sessions() {
        StringBuilder b = new StringBuilder();
        long now = System.currentTimeMillis();
        for (Session s : view.sessions().snapshot()) {
            InetSocketAddress c = s.clientAddress();
            Server srv = s.server();
            b.append("0x").append(Integer.toHexString(System.identityHashCode(s))).append(": proto=tcpv")
                    .append(c != null && c.getAddress() instanceof java.net.Inet6Address ? '6' : '4')
                    .append(" src=").append(c == null || c.getAddress() == null ? "?" : NetUtil.toAddressString(c.getAddress()))
                    .append(':').append(c == null ? 0 : c.getPort())
                    .append(" fe=").append(s.frontend().name()).append(" be=").append(s.backend().name())
                    .append(" srv=").append(srv == null ? "<none>" : srv.name())
                    .append(" age=").append((now - s.acceptedAtMillis()) / 1000).append('s')
                    .append(" phase=").append(s.phase().name().toLowerCase(Locale.ROOT));
            if (s.queued()) {
                b.append(" queued");
            }
            if (s.frontend().protocol() == io.mailproxy.mail.MailProtocol.LMTP && s.conversation().inTransaction()) {
                b.append(" lmtp=in-transaction");
            }
            b.append('\n');
        }
        return b.append('\n').toString();
    }

    /** The distinct stick tables, a shared one once, with the first backend that uses it. */
    private Map<StickTable, Backend> tables() {
        Map<StickTable, Backend> out = new IdentityHashMap<>();
        for (Backend b : view.backendList()) {
            if (b.stickTable() != null) {
                out.putIfAbsent(b.stickTable(), b);
            }
        }
        return out;
    }

    private StickTable table(String name) {
        for (StickTable t : tables().keySet()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }

    private String showTable(List<String> w) {
        if (w.size() == 2) {
            StringBuilder b = new StringBuilder();
            for (StickTable t : tables().keySet()) {
                b.append("# table: ").append(t.name()).append(", type: ip, size:").append(t.size()).append(", used:")
                        .append(t.count()).append('\n');
            }
            return b.append('\n').toString();
        }
        StickTable t = table(w.get(2));
        if (t == null) {
            return "No such table\n\n";
        }
        List<StickTable.Entry> entries;
        if (w.size() == 5 && w.get(3).equals("key")) {
            InetAddress key = address(w.get(4));
            if (key == null) {
                return "Invalid key\n\n";
            }
            StickTable.Entry e = t.peek(key);
            entries = e == null ? List.of() : List.of(e);
        } else if (w.size() == 3) {
            entries = t.entries(Integer.MAX_VALUE);
        } else {
            return "Optional argument only supports \"data.<store_data_type>\" <operator> <value> and key <key>\n\n";
        }
        StringBuilder b = new StringBuilder("# table: ").append(t.name()).append(", type: ip, size:").append(t.size())
                .append(", used:").append(t.count()).append('\n');
        for (StickTable.Entry e : entries) {
            b.append("0x").append(Integer.toHexString(e.key().hashCode())).append(": key=")
                    .append(NetUtil.toAddressString(e.key())).append(" use=0 exp=").append(Math.max(e.remainingMillis(), 0))
                    .append(" server_key=").append(e.server()).append('\n');
        }
        return b.append('\n').toString();
    }

    private String clearTable(List<String> w) {
        StickTable t = table(w.get(2));
        if (t == null) {
            return "No such table\n\n";
        }
        if (w.size() == 5 && w.get(3).equals("key")) {
            InetAddress key = address(w.get(4));
            if (key == null) {
                return "Invalid key\n\n";
            }
            t.remove(key);
            return "\n";
        }
        if (w.size() != 3) {
            return "Optional argument only supports \"data.<store_data_type>\" <operator> <value> and key <key>\n\n";
        }
        t.clear();
        return "\n";
    }

    private static InetAddress address(String text) {
        byte[] b = NetUtil.createByteArrayFromIpAddressString(text);
        if (b == null) {
            return null;
        }
        try {
            return InetAddress.getByAddress(b);
        } catch (java.net.UnknownHostException e) {
            return null;
        }
    }

    private static Integer number(String text) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String unknown(String line) {
        return "Unknown command: '" + line.trim() + "'.\n" + HELP + "\n";
    }

    static List<String> words(String line) {
        List<String> out = new ArrayList<>();
        for (String s : line.trim().split("\\s+")) {
            if (!s.isEmpty()) {
                out.add(s);
            }
        }
        return out;
    }
}
