package io.mailproxy;

import io.mailproxy.config.ConfigLoader;
import io.mailproxy.config.ConfigurationException;
import io.mailproxy.config.ProxySettings;
import io.mailproxy.log.LogSetup;
import io.mailproxy.systemd.ServiceNotifier;
import io.mailproxy.tls.ServerTls;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Logger;

/**
 * The {@code mailproxy} command: {@code run}, {@code check}, {@code reload} and {@code demo}.
 *
 * <p>Exit codes: 0 success; 2 a configuration that cannot run (every problem printed as
 * {@code FILE:LINE: key: what is wrong}) or a usage error; 1 anything else, in one line.
 */
public final class Main {

    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int BAD_CONFIG = 2;

    /** How long a stop waits for the last log lines to be written (the output may be stalled). */
    private static final java.time.Duration LOG_DRAIN = java.time.Duration.ofSeconds(5);

    private static final String USAGE = """
            usage: mailproxy run --config FILE     run the proxy in the foreground (SIGTERM/SIGINT stop it, SIGHUP reloads FILE)
                   mailproxy check --config FILE   validate a configuration and its certificates
                   mailproxy reload --config FILE  validate FILE, then ask the mailproxy running it to reload it (SIGHUP)
                   mailproxy demo                  two local Dovecot backends behind mailproxy, to try by hand
            """;

    private Main() {
    }

    public static void main(String[] args) {
        LogSetup.keepLoggingThroughShutdown();
        int code;
        try {
            code = run(args, System.out, System.err);
        } catch (RuntimeException | Error e) {
            System.err.println("mailproxy: internal error: " + e);
            code = FAILED;
        }
        if (code != OK) {
            System.exit(code);
        }
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            err.print(USAGE);
            return BAD_CONFIG;
        }
        String command = args[0];
        switch (command) {
            case "run", "check", "reload" -> {
                Path config = configArgument(args, err);
                if (config == null) {
                    return BAD_CONFIG;
                }
                return switch (command) {
                    case "run" -> runProxy(config, out, err);
                    case "check" -> check(config, out, err);
                    default -> reload(config, out, err);
                };
            }
            case "demo" -> {
                // The demo starts Dovecot, which the product never does: it is a program of its own
                // (module demo), which bin/mailproxy runs for this command.
                err.println("mailproxy: the demo is a program of its own; run it with bin/mailproxy demo");
                return BAD_CONFIG;
            }
            case "help", "-h", "--help" -> {
                out.print(USAGE);
                return OK;
            }
            default -> {
                err.println("mailproxy: unknown command \"" + command + "\"");
                err.print(USAGE);
                return BAD_CONFIG;
            }
        }
    }

    private static Path configArgument(String[] args, PrintStream err) {
        if (args.length == 3 && (args[1].equals("--config") || args[1].equals("-c"))) {
            return Path.of(args[2]);
        }
        if (args.length == 2 && args[1].startsWith("--config=")) {
            return Path.of(args[1].substring("--config=".length()));
        }
        err.println("mailproxy " + args[0] + ": expected --config FILE");
        err.print(USAGE);
        return null;
    }

    private static int check(Path config, PrintStream out, PrintStream err) {
        try {
            ProxySettings settings = ConfigLoader.load(config);
            MailProxy.tlsContexts(settings, ServerTls.provider(settings.tlsEngine()));
            out.println(config + ": OK (" + settings.frontends().size() + " frontend(s), "
                    + settings.backends().size() + " backend(s))");
            return OK;
        } catch (ConfigurationException e) {
            err.println(e.getMessage());
            return BAD_CONFIG;
        } catch (javax.net.ssl.SSLException e) {
            err.println(config + ":?: mailproxy.tls-engine: " + e.getMessage());
            return BAD_CONFIG;
        }
    }

    /**
     * Validates {@code config} as {@code check} does, then sends SIGHUP to each process running
     * {@code mailproxy run} with that file; the process logs what the reload changed.
     */
    private static int reload(Path config, PrintStream out, PrintStream err) {
        int checked = check(config, out, err);
        if (checked != OK) {
            err.println("mailproxy reload: nothing was sent; the running configuration stays");
            return checked;
        }
        List<ProcessHandle> running = RunningProxies.using(config);
        if (running.isEmpty()) {
            err.println("mailproxy reload: no running mailproxy uses " + config.toAbsolutePath().normalize()
                    + " (under systemd: systemctl reload mailproxy)");
            return FAILED;
        }
        int code = OK;
        for (ProcessHandle p : running) {
            String problem = RunningProxies.hangUp(p);
            if (problem == null) {
                out.println("mailproxy reload: asked process " + p.pid() + " to reload " + config
                        + "; its log says what changed");
            } else {
                err.println("mailproxy reload: cannot signal process " + p.pid() + ": " + problem);
                code = FAILED;
            }
        }
        return code;
    }

    private static int runProxy(Path config, PrintStream out, PrintStream err) {
        ProxySettings settings;
        MailProxy proxy;
        try {
            settings = ConfigLoader.load(config);
            if (Privileges.isRoot() && !settings.runAsRoot()) {
                err.println("mailproxy: refusing to run as root. Run it as an unprivileged user that may bind ports"
                        + " below 1024: the systemd unit does (User=mailproxy, AmbientCapabilities=CAP_NET_BIND_SERVICE);"
                        + " by hand: setcap cap_net_bind_service=+ep on the java binary, or setpriv --reuid mailproxy"
                        + " --inh-caps +net_bind_service --ambient-caps +net_bind_service. To run as root anyway, set"
                        + " mailproxy.run-as-root = true in " + config);
                return BAD_CONFIG;
            }
            LogSetup.install(out, settings.log());
            proxy = MailProxy.start(settings);
        } catch (ConfigurationException e) {
            err.println(e.getMessage());
            return BAD_CONFIG;
        } catch (java.io.IOException e) {
            err.println(config + ":?: mailproxy.log.address: cannot log to syslog: " + e.getMessage());
            return BAD_CONFIG;
        }
        Logger log = Logger.getLogger(Main.class.getName());
        ServiceNotifier serviceManager = ServiceNotifier.fromEnvironment();
        // Reloads run one at a time on their own thread: signals that come meanwhile make one more.
        Reloader reloader = new Reloader(proxy, serviceManager);
        Signals.handle("HUP", reloader::request);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            serviceManager.stopping("stopping: " + proxy.activeSessions() + " session(s) open");
            log.info("stopping: closing the listeners; " + proxy.activeSessions() + " session(s) open");
            proxy.close();
            log.info("stopped");
            LogSetup.drain(LOG_DRAIN);
            stopped.countDown();
        }, "mailproxy-shutdown"));
        // Only now, with the signal handlers in place: systemd may send SIGHUP or SIGTERM once it has READY=1.
        serviceManager.ready("serving on " + proxy.boundAddresses().size() + " listener(s)");
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return OK;
    }
}
