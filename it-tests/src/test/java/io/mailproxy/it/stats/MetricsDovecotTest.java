package io.mailproxy.it.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code /metrics} read by Prometheus' own text-format parser (the Python client's
 * {@code prometheus_client.parser}, Debian's python3-prometheus-client), with values equal to what
 * the test did: IMAP sessions to real Dovecots and the bytes the client sent and read.
 */
class MetricsDovecotTest extends TwoDovecots {

    /** Prints each sample of the exposition on stdin as {@code name{labels} value}, labels sorted. */
    private static final String PARSE = """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            for family in text_string_to_metric_families(sys.stdin.read()):
                for s in family.samples:
                    labels = ",".join('%s="%s"' % (k, v) for k, v in sorted(s.labels.items()))
                    print("%s{%s} %r" % (s.name, labels, s.value))
            """;

    /** The samples of {@code exposition}, parsed by Prometheus' parser. */
    static Map<String, Double> parse(String exposition) {
        String out = StatsFixture.run(List.of("/usr/bin/python3", "-c", PARSE), exposition);
        Map<String, Double> samples = new HashMap<>();
        for (String line : out.split("\n")) {
            int space = line.lastIndexOf(' ');
            if (space < 0) {
                throw new AssertionError("the parser refused the exposition:\n" + out);
            }
            try {
                samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
            } catch (NumberFormatException e) {
                throw new AssertionError("the parser refused the exposition:\n" + out, e);
            }
        }
        return samples;
    }

    @Test
    void metricsCountWhatTheClientsDid() throws Exception {
        try (StatsFixture f = StatsFixture.start(dir, dc1, dc2, "")) {
            long sent = 0;
            long received = 0;
            Map<String, Integer> perServer = new HashMap<>();
            for (int i = 0; i < 3; i++) {
                try (StatsFixture.Imap s = f.open("127.0.0." + (10 + i))) {
                    s.send("a NOOP");
                    s.line();
                    s.logout();
                    sent += s.sent;
                    received += s.received;
                    perServer.merge(s.server, 1, Integer::sum);
                }
            }
            StatsFixture.await("sessions ended", () -> f.proxy.activeSessions() == 0);
            HttpResponse<String> r = f.get("/metrics", true);
            assertEquals(200, r.statusCode());
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
            Map<String, Double> m = parse(r.body());
            assertEquals(3.0, m.get("mailproxy_frontend_sessions_total{proxy=\"imap\"}"), r.body());
            assertEquals(0.0, m.get("mailproxy_frontend_current_sessions{proxy=\"imap\"}"));
            assertEquals((double) sent, m.get("mailproxy_frontend_bytes_in_total{proxy=\"imap\"}"));
            assertEquals((double) received, m.get("mailproxy_frontend_bytes_out_total{proxy=\"imap\"}"));
            assertEquals((double) received, m.get("mailproxy_backend_bytes_out_total{proxy=\"pool\"}"));
            assertEquals((double) perServer.getOrDefault("dc1", 0),
                    m.get("mailproxy_server_sessions_total{proxy=\"pool\",server=\"dc1\"}"));
            assertEquals(1.0, m.get("mailproxy_server_status{proxy=\"pool\",server=\"dc1\",state=\"no check\"}"));
            assertEquals(0.0, m.get("mailproxy_frontend_proxy_header_rejections_total{proxy=\"imap\",reason=\"PRX_BAD_HDR\"}"));
            assertEquals(0.0, m.get("mailproxy_frontend_sessions_by_phase{phase=\"relaying\",proxy=\"imap\"}"));
            // the values are live: one more session, one more count
            f.session("127.0.0.20");
            StatsFixture.await("sessions ended", () -> f.proxy.activeSessions() == 0);
            assertEquals(4.0, parse(f.get("/metrics", true).body()).get("mailproxy_frontend_sessions_total{proxy=\"imap\"}"));
            // negative controls: the parser is strict, and the endpoint needs the credentials
            String broken = r.body().replaceFirst("(?m)^(mailproxy_frontend_sessions_total\\{[^}]*\\}) 3\\.0$", "$1 three");
            assertNotEquals(r.body(), broken);
            assertTrue(StatsFixture.run(List.of("/usr/bin/python3", "-c", PARSE), broken).contains("Error"));
            assertEquals(401, f.get("/metrics", false).statusCode());
        }
    }
}
