package io.mailproxy.stats.http;

import io.mailproxy.admin.ServerActions;
import io.mailproxy.backend.Backend;
import io.mailproxy.backend.Server;
import io.mailproxy.config.StatsSettings;
import io.mailproxy.stats.report.PrometheusMetrics;
import io.mailproxy.stats.report.ProxyView;
import io.mailproxy.stats.report.StatRows;
import io.mailproxy.stats.report.StatsCsv;
import io.mailproxy.stats.report.StatsPage;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Serves {@code /stats} (HTML), {@code /stats;csv} (HAProxy's CSV) and {@code /metrics}
 * (Prometheus), and takes the page's admin actions as {@code POST /stats}. Everything needs the
 * credentials of {@code stats.auth} when it has any; an action also needs {@code stats.admin} and
 * the user's token (see {@link StatsAccess}), and is refused with 403 otherwise.
 */
final class StatsHttpHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Logger LOG = Logger.getLogger(StatsHttpHandler.class.getName());

    private final ProxyView view;
    private final StatsSettings settings;
    private final StatsAccess access;
    private final ServerActions actions;

    StatsHttpHandler(ProxyView view, StatsSettings settings, StatsAccess access, ServerActions actions) {
        this.view = view;
        this.settings = settings;
        this.access = access;
        this.actions = actions;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        if (!req.decoderResult().isSuccess()) {
            send(ctx, req, text(HttpResponseStatus.BAD_REQUEST, "bad request\n"));
            return;
        }
        String user = access.user(req.headers().get(HttpHeaderNames.AUTHORIZATION));
        if (!access.open() && user == null) {
            FullHttpResponse r = text(HttpResponseStatus.UNAUTHORIZED, "authentication required\n");
            r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Basic realm=\"mailproxy statistics\"");
            send(ctx, req, r);
            return;
        }
        String path = new QueryStringDecoder(req.uri()).rawPath();
        String[] parts = path.split(";");
        String resource = parts[0];
        boolean get = req.method().equals(HttpMethod.GET) || req.method().equals(HttpMethod.HEAD);
        if (resource.equals("/metrics") && get) {
            send(ctx, req, response(HttpResponseStatus.OK, PrometheusMetrics.CONTENT_TYPE, PrometheusMetrics.text(view)));
        } else if (resource.equals("/stats") && get) {
            if (List.of(parts).contains("csv")) {
                send(ctx, req, text(HttpResponseStatus.OK, StatsCsv.of(StatRows.of(view))));
            } else {
                String notice = null;
                for (String p : parts) {
                    if (p.startsWith("st=")) {
                        notice = QueryStringDecoder.decodeComponent(p.substring(3));
                    }
                }
                String html = StatsPage.render(view, StatRows.of(view), access.admin(user) ? access.token(user) : null,
                        settings.refresh(), notice);
                send(ctx, req, response(HttpResponseStatus.OK, "text/html; charset=utf-8", html.getBytes(StandardCharsets.UTF_8)));
            }
        } else if (resource.equals("/stats") && req.method().equals(HttpMethod.POST)) {
            post(ctx, req, user);
        } else if (resource.equals("/stats") || resource.equals("/metrics")) {
            FullHttpResponse r = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "method not allowed\n");
            r.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD, POST");
            send(ctx, req, r);
        } else {
            send(ctx, req, text(HttpResponseStatus.NOT_FOUND, "not found: try /stats, /stats;csv or /metrics\n"));
        }
    }

    /** An admin action from the page's form: {@code b}, one {@code s} per server, {@code action}, {@code token}. */
    private void post(ChannelHandlerContext ctx, FullHttpRequest req, String user) {
        Map<String, List<String>> form = new QueryStringDecoder(req.content().toString(StandardCharsets.UTF_8), false)
                .parameters();
        String token = first(form, "token");
        if (!access.admin(user) || !access.validToken(user, token)) {
            LOG.warning(() -> "stats: admin action refused (" + (user == null ? "no user" : !access.admin(user)
                    ? "admin actions are off" : "bad token for " + user) + ") from " + ctx.channel().remoteAddress());
            send(ctx, req, text(HttpResponseStatus.FORBIDDEN, "admin actions need an authenticated admin and the page's token\n"));
            return;
        }
        Backend b = actions.backend(String.valueOf(first(form, "b")));
        String action = String.valueOf(first(form, "action"));
        List<String> servers = form.getOrDefault("s", List.of());
        String outcome;
        if (b == null) {
            outcome = "FAILED: no such backend";
        } else if (servers.isEmpty()) {
            outcome = "FAILED: no server was checked";
        } else {
            outcome = null;
            for (String name : servers) {
                Server s = b.server(name);
                String error = s == null ? "no such server " + name : apply(b, s, action);
                if (error != null) {
                    outcome = "FAILED: " + error;
                    break;
                }
                LOG.info(() -> "stats: " + user + " applied " + action + " to " + s.qualifiedName());
            }
            if (outcome == null) {
                outcome = "DONE: " + action + " on " + b.name() + "/" + String.join(",", servers);
            }
        }
        FullHttpResponse r = response(HttpResponseStatus.SEE_OTHER, "text/plain; charset=utf-8", new byte[0]);
        r.headers().set(HttpHeaderNames.LOCATION, "/stats;st=" + encode(outcome));
        send(ctx, req, r);
    }

    private String apply(Backend b, Server s, String action) {
        return switch (action) {
            case "ready" -> actions.state(b, s, Server.AdminState.READY);
            case "drain" -> actions.state(b, s, Server.AdminState.DRAIN);
            case "maint" -> actions.state(b, s, Server.AdminState.MAINT);
            case "dhlth" -> actions.checks(s, false);
            case "ehlth" -> actions.checks(s, true);
            case "hrunn" -> actions.health(b, s, true);
            case "hdown" -> actions.health(b, s, false);
            case "shutdown" -> actions.shutdownSessions(s);
            default -> "unknown action " + action;
        };
    }

    private static String encode(String s) {
        return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String first(Map<String, List<String>> form, String key) {
        List<String> v = form.get(key);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    private static FullHttpResponse text(HttpResponseStatus status, String body) {
        return response(status, "text/plain; charset=utf-8", body.getBytes(StandardCharsets.UTF_8));
    }

    private static FullHttpResponse response(HttpResponseStatus status, String type, byte[] body) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
        r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-cache");
        HttpUtil.setContentLength(r, body.length);
        return r;
    }

    private static void send(ChannelHandlerContext ctx, FullHttpRequest req, FullHttpResponse r) {
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        if (req.method().equals(HttpMethod.HEAD)) {
            r.content().clear();
        }
        if (keepAlive) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(r);
        } else {
            ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
