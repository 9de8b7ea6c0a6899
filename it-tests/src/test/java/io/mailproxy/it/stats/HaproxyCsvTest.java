package io.mailproxy.it.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.MailProxy;
import io.mailproxy.it.FreePorts;
import io.mailproxy.it.ProxyFixture;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * mailproxy's CSV statistics against real HAProxy 2.6's (Debian's haproxy, started here with a
 * stats socket): the header carries every one of HAProxy's field names in HAProxy's order, and a
 * monitoring script written for HAProxy's CSV reads mailproxy's unchanged.
 */
class HaproxyCsvTest {

    private static final String PYTHON = "/usr/bin/python3";

    @TempDir
    static Path dir;

    private static Process haproxy;
    private static Path haproxySocket;
    private static MailProxy proxy;
    private static Path adminSocket;
    private static int statsPort;

    @BeforeAll
    static void start() throws Exception {
        haproxySocket = dir.resolve("haproxy.sock");
        int closed = FreePorts.next();
        Path cfg = Files.writeString(dir.resolve("haproxy.cfg"), """
                global
                  stats socket %s mode 600 level admin
                defaults
                  mode tcp
                  timeout connect 1s
                  timeout client 5s
                  timeout server 5s
                frontend imap
                  bind 127.0.0.1:%d
                  default_backend pool
                backend pool
                  server dc1 127.0.0.1:%d
                """.formatted(haproxySocket, FreePorts.next(), closed));
        haproxy = new ProcessBuilder("haproxy", "-db", "-f", cfg.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("haproxy.log").toFile()).start();
        StatsFixture.await("haproxy's stats socket", () -> Files.exists(haproxySocket) || !haproxy.isAlive());
        assertTrue(haproxy.isAlive(), "haproxy runs: " + Files.readString(dir.resolve("haproxy.log")));
        adminSocket = dir.resolve("mailproxy.sock");
        statsPort = FreePorts.next();
        proxy = ProxyFixture.startFrom(dir.resolve("mailproxy.conf"), """
                mailproxy {
                  frontends { imap { bind = ["127.0.0.1:%d"], protocol = imap, backend = pool } }
                  backends { pool { servers = [{ name = dc1, address = "127.0.0.1:%d" }] } }
                  stats { bind = "127.0.0.1:%d" }
                  admin-socket { path = "%s" }
                }
                """.formatted(FreePorts.next(), closed, statsPort, adminSocket));
    }

    @AfterAll
    static void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (haproxy != null) {
            haproxy.destroy();
            haproxy.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static String showStat(Path socket) {
        return StatsFixture.run(List.of("socat", "stdio", "unix-connect:" + socket), "show stat\n");
    }

    private static String statsCsv() throws IOException, InterruptedException {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + statsPort + "/stats;csv")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        return r.body();
    }

    /** The field names of a CSV's header line {@code # a,b,c,}. */
    static List<String> fields(String csv) {
        String header = csv.lines().findFirst().orElseThrow();
        assertTrue(header.startsWith("# "), header);
        List<String> out = new ArrayList<>(List.of(header.substring(2).split(",", -1)));
        if (out.get(out.size() - 1).isEmpty()) {
            out.remove(out.size() - 1);
        }
        return out;
    }

    /** The first position where {@code ours} does not carry {@code theirs}' field, or -1 when it carries all, in order. */
    static int firstDifference(List<String> theirs, List<String> ours) {
        for (int i = 0; i < theirs.size(); i++) {
            if (i >= ours.size() || !theirs.get(i).equals(ours.get(i))) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void headerCarriesEveryHaproxyFieldInOrder() throws Exception {
        List<String> theirs = fields(showStat(haproxySocket));
        assertTrue(theirs.size() > 100, "HAProxy 2.6 has over 100 fields: " + theirs.size());
        for (String ours : List.of(showStat(adminSocket), statsCsv())) {
            List<String> mine = fields(ours);
            int diff = firstDifference(theirs, mine);
            assertEquals(-1, diff, diff < 0 ? "" : "field " + diff + ": HAProxy " + theirs.get(diff) + ", mailproxy "
                    + (diff < mine.size() ? mine.get(diff) : "none"));
            assertTrue(mine.size() > theirs.size() && mine.subList(theirs.size(), mine.size()).stream()
                    .allMatch(f -> f.startsWith("mp_")), "mailproxy's own columns follow, all mp_*");
        }
        // negative control: the comparison sees one field moved
        List<String> moved = new ArrayList<>(theirs);
        moved.add(5, moved.remove(7));
        assertEquals(5, firstDifference(theirs, moved));
    }

    @Test
    void aScriptForHaproxysCsvReadsMailproxys() throws Exception {
        Path script = dir.resolve("haproxy_csv_status.py");
        try (InputStream in = HaproxyCsvTest.class.getResourceAsStream("haproxy_csv_status.py")) {
            Files.write(script, in.readAllBytes());
        }
        String onHaproxy = StatsFixture.run(List.of(PYTHON, script.toString()), showStat(haproxySocket));
        assertTrue(onHaproxy.contains("pool/dc1 scur=0 status=no check check_status="), "written for HAProxy: " + onHaproxy);
        String onMailproxy = StatsFixture.run(List.of(PYTHON, script.toString()), showStat(adminSocket));
        assertEquals("pool/dc1 scur=0 status=no check check_status=\npool/BACKEND scur=0 status=UP check_status=\n",
                onMailproxy);
        assertEquals(onMailproxy, StatsFixture.run(List.of(PYTHON, script.toString()), statsCsv()));
        // negative control: the script reads by name, so a CSV without the column is refused
        String renamed = showStat(adminSocket).replaceFirst(",check_status,", ",check_state,");
        String refused = StatsFixture.run(List.of(PYTHON, script.toString()), renamed);
        assertNotEquals(onMailproxy, refused);
        assertTrue(refused.contains("KeyError"), refused);
    }
}
