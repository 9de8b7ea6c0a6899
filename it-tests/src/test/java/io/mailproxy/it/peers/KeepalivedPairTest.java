package io.mailproxy.it.peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.mailproxy.session.ProxyRunner;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's keepalived pair, failing over: two mailproxy nodes (child JVMs) sharing their table
 * over the peers protocol, each beside Debian's keepalived holding the virtual address
 * 198.18.0.100 (a benchmarking range, RFC 2544) for one of them; node A dies (keepalived and
 * mailproxy stopped), the address moves to B, and the clients that came through A land on the
 * same servers through B.
 *
 * <p>Everything lives in network namespaces this test makes and removes: {@code lan} holds a
 * bridge; {@code a}, {@code b} (the nodes, 198.18.0.1 and .2), {@code srv} (two greeting servers
 * made with socat, 198.18.0.51 and .52, port 143) and {@code cl} (the clients, 198.18.0.10 to .29)
 * each have a veth on it. No traffic leaves those namespaces. Needs root.
 */
class KeepalivedPairTest {

    private static final int CLIENTS = 20;
    private static final String VIP = "198.18.0.100";
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private final String ns = "mpk" + (ProcessHandle.current().pid() % 100_000);
    private final List<Process> processes = new ArrayList<>();

    @BeforeEach
    void network() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "network namespaces need root");
        String script = """
                set -e
                P=%s
                for n in lan a b srv cl; do ip netns add $P-$n; ip -n $P-$n link set lo up; done
                ip -n $P-lan link add br0 type bridge
                ip -n $P-lan link set br0 up
                for n in a b srv cl; do
                  ip link add $P$n type veth peer name $P$n-br
                  ip link set $P$n netns $P-$n name eth0
                  ip link set $P$n-br netns $P-lan
                  ip -n $P-lan link set $P$n-br master br0 up
                  ip -n $P-$n link set eth0 up
                done
                ip -n $P-a addr add 198.18.0.1/24 dev eth0
                ip -n $P-b addr add 198.18.0.2/24 dev eth0
                ip -n $P-srv addr add 198.18.0.51/24 dev eth0
                ip -n $P-srv addr add 198.18.0.52/24 dev eth0
                for i in $(seq 10 29); do ip -n $P-cl addr add 198.18.0.$i/24 dev eth0; done
                """.formatted(ns);
        run("bash", "-c", script);
        for (String s : List.of("s1:198.18.0.51", "s2:198.18.0.52")) {
            String[] nameAddress = s.split(":");
            // A script, not socat's SYSTEM: a shell would expand the greeting's '*'.
            Path greet = Files.writeString(dir.resolve("greet-" + nameAddress[0]),
                    "#!/bin/sh\nprintf '* OK " + nameAddress[0] + "\\r\\n'\n");
            greet.toFile().setExecutable(true);
            start("server-" + nameAddress[0], "ip", "netns", "exec", ns + "-srv", "socat",
                    "TCP-LISTEN:143,bind=" + nameAddress[1] + ",fork,reuseaddr", "EXEC:" + greet);
        }
    }

    @AfterEach
    void teardown() throws Exception {
        for (Process p : processes) {
            p.destroy();
        }
        for (Process p : processes) {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
        }
        if ("root".equals(System.getProperty("user.name"))) {
            run("bash", "-c", "for n in lan a b srv cl; do ip netns del " + ns + "-$n 2>/dev/null || true; done");
        }
    }

    @Test
    void afterAFailoverTheClientsLandWhereTheyWere() throws Exception {
        Map<String, List<String>> seen = failover(true);
        assertEquals(seen.get("a"), seen.get("b"), "servers per client, through A then through B");
    }

    /** Negative control: without peers, B's round robin sends every client (in reversed order) elsewhere. */
    @Test
    void withoutPeersTheClientsMove() throws Exception {
        Map<String, List<String>> seen = failover(false);
        int differ = 0;
        for (int i = 0; i < CLIENTS; i++) {
            if (!seen.get("a").get(i).equals(seen.get("b").get(i))) {
                differ++;
            }
        }
        assertTrue(differ >= CLIENTS / 2, differ + " of " + CLIENTS + " moved: " + seen);
    }

    /** Clients through the virtual address while A holds it, then after A dies; the servers per client, by client. */
    private Map<String, List<String>> failover(boolean peers) throws Exception {
        Process mpa = mailproxy("a", "mpa", peers);
        Process mpb = mailproxy("b", "mpb", peers);
        Process kaA = keepalived("a", 150);
        keepalived("b", 100);
        assertTrue(ProxyRunner.await(() -> holdsVip("a"), WAIT), "A holds " + VIP);

        List<String> clients = new ArrayList<>();
        for (int i = 10; i < 10 + CLIENTS; i++) {
            clients.add("198.18.0." + i);
        }
        Map<String, String> throughA = new LinkedHashMap<>();
        for (String c : clients) {
            throughA.put(c, greeting(c));
        }
        assertTrue(throughA.containsValue("s1") && throughA.containsValue("s2"), throughA.toString());

        // A dies: its keepalived (which gives up the address at once) and its mailproxy.
        kaA.destroy();
        mpa.destroy();
        assertTrue(ProxyRunner.await(() -> holdsVip("b") && !holdsVip("a"), WAIT), "B holds " + VIP);
        List<String> reversed = new ArrayList<>(clients);
        Collections.reverse(reversed);
        Map<String, String> throughB = new LinkedHashMap<>();
        for (String c : reversed) {
            throughB.put(c, greeting(c));
        }
        assertTrue(mpb.isAlive());
        List<String> a = new ArrayList<>();
        List<String> b = new ArrayList<>();
        for (String c : clients) {
            a.add(throughA.get(c));
            b.add(throughB.get(c));
        }
        return Map.of("a", a, "b", b);
    }

    private Process mailproxy(String node, String name, boolean peers) throws Exception {
        String self = node.equals("a") ? "198.18.0.1" : "198.18.0.2";
        Path conf = Files.writeString(dir.resolve(name + ".conf"), """
                mailproxy {
                  run-as-root = true
                  frontends { imap { bind = ["0.0.0.0:143"], protocol = imap, backend = imap } }
                  stick-tables { users { size = 10k, expire = 30m, peers = %s } }
                  backends { imap {
                    balance = roundrobin, send-proxy = none, stick-table = users
                    servers = [{ name = s1, address = "198.18.0.51:143" }, { name = s2, address = "198.18.0.52:143" }]
                  } }
                  peers {
                    local-name = %s, bind = "%s:10000", resync-timeout = 5s
                    nodes = [{ name = mpa, address = "198.18.0.1:10000" }, { name = mpb, address = "198.18.0.2:10000" }]
                  }
                }
                """.formatted(peers, name, self));
        String java = ProcessHandle.current().info().command().orElse("java");
        Path out = dir.resolve(name + ".out");
        Process p = start(name, "ip", "netns", "exec", ns + "-" + node, java, "-Xmx256m", "-cp",
                System.getProperty("java.class.path"), "io.mailproxy.Main", "run", "--config", conf.toString());
        assertTrue(ProxyRunner.await(() -> read(out).contains("mailproxy started") || !p.isAlive(), WAIT), name + ": " + read(out));
        assertTrue(p.isAlive(), name + " exited: " + read(out));
        return p;
    }

    private Process keepalived(String node, int priority) throws Exception {
        Path conf = Files.writeString(dir.resolve("keepalived-" + node + ".conf"), """
                global_defs {
                  router_id mp%s
                }
                vrrp_instance mail {
                  state BACKUP
                  interface eth0
                  virtual_router_id 51
                  priority %d
                  advert_int 1
                  virtual_ipaddress {
                    %s/24 dev eth0
                  }
                }
                """.formatted(node, priority, VIP));
        return start("keepalived-" + node, "ip", "netns", "exec", ns + "-" + node, "keepalived", "-n", "-l", "-P", "-f",
                conf.toString(), "-p", dir.resolve("ka-" + node + ".pid").toString(), "-r",
                dir.resolve("ka-vrrp-" + node + ".pid").toString());
    }

    private boolean holdsVip(String node) {
        return run("ip", "-n", ns + "-" + node, "-o", "addr", "show", "dev", "eth0").contains(" " + VIP + "/");
    }

    /** The greeting's server name for a connection from {@code client} to the virtual address. */
    private String greeting(String client) {
        String out = run("timeout", "20", "ip", "netns", "exec", ns + "-cl", "socat", "-u",
                "TCP:" + VIP + ":143,bind=" + client + ",connect-timeout=10", "STDOUT").trim();
        assertTrue(out.startsWith("* OK "), client + ": " + out);
        return out.substring(5);
    }

    private Process start(String name, String... command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + ".out").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        processes.add(p);
        return p;
    }

    private static String run(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", command) + " failed: " + out);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return e.toString();
        }
    }
}
