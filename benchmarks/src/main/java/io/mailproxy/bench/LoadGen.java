package io.mailproxy.bench;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The benchmark suite's load generator and backends (issue 6), one mode per run:
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.mailproxy.bench.LoadGen MODE [--option value]...
 * </pre>
 *
 * <p>Every run prints exactly one JSON object on stdout (a backend: {@code {"listening":PORT}} once it
 * accepts; a failed run: {@code {"mode":..,"error":..}} and exit status 2 for a bad command line, 1
 * otherwise) and human-readable progress on stderr. The modes and their fields are in
 * {@code benchmarks/README.md}.
 */
public final class LoadGen {

    private static final Set<String> FLAGS = Set.of("tls", "resume", "no-greeting");

    static final String USAGE = String.join("\n",
            "usage: LoadGen MODE [options]",
            "  backends (run until killed; print {\"listening\":PORT}):",
            "    sink|echo|source|greeter --port P [--bind 127.0.0.1] [--proxy-header optional|required|none]",
            "  clients (print one JSON result):",
            "    throughput --target H:P [--tls] --connections N --seconds S [--warmup-seconds W] --direction up|down|both",
            "    handshakes --target H:P --connections C --seconds S [--warmup-seconds W] [--resume] [--no-greeting]",
            "    idle       --target H:P [--tls] --sessions N [--proxy-pid PID] [--concurrency K] [--settle-seconds T]",
            "               [--source-addresses 127.0.0.2-127.0.0.9|none]",
            "    latency    --target H:P [--tls] --connections C --requests R [--warmup-requests W] [--timeout-seconds 300]",
            "    imap       --target H:P [--tls] --connections C --seconds S [--warmup-seconds W] [--user-prefix u] [--password demo]",
            "  common: [--threads T] [--transport auto|epoll|nio]",
            "  TLS:    [--tls-cipher TLS_AES_128_GCM_SHA256] [--tls-version TLSv1.3] [--tls-engine auto|openssl|jdk]");

    private LoadGen() {
    }

    public static void main(String[] args) {
        PrintStream stdout = System.out;
        // Only the result may reach stdout: anything else a library prints goes to stderr.
        System.setOut(System.err);
        String mode = args.length == 0 ? "" : args[0];
        List<String> rest = Arrays.asList(args).subList(Math.min(1, args.length), args.length);
        int status;
        Json result;
        try {
            Options o = new Options(rest, FLAGS);
            result = switch (mode) {
                case "sink", "echo", "source", "greeter" -> {
                    System.setOut(stdout);
                    yield Backends.run(mode, o);
                }
                case "throughput" -> Throughput.run(o);
                case "handshakes" -> Handshakes.run(o);
                case "idle" -> Idle.run(o);
                case "latency" -> Latency.run(o);
                case "imap" -> Imap.run(o);
                default -> throw new Options.UsageException(mode.isEmpty() ? "no mode given" : "unknown mode \"" + mode + "\"");
            };
            status = 0;
        } catch (Options.UsageException e) {
            System.err.println("loadgen: " + e.getMessage());
            System.err.println(USAGE);
            result = new Json().put("mode", mode).put("error", e.getMessage());
            status = 2;
        } catch (Exception e) {
            System.err.println("loadgen: " + e);
            result = new Json().put("mode", mode).put("error", String.valueOf(e));
            status = 1;
        }
        if (result != null) {
            stdout.println(result);
            stdout.flush();
        }
        System.exit(status);
    }

    /** Sleeps through a warm-up or measurement window. */
    static void sleep(double seconds) throws InterruptedException {
        Thread.sleep(Math.round(seconds * 1000));
    }
}
