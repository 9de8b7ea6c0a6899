package io.mailproxy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The processes running {@code mailproxy run} with a given configuration file, found through
 * {@code /proc} (their command line and working directory), for {@code mailproxy reload}. The same
 * user's processes, or every process for root; others cannot be signalled anyway.
 */
final class RunningProxies {

    private RunningProxies() {
    }

    /** Every other process whose command is {@code ... io.mailproxy... run --config F} with F the same file as {@code config}. */
    static List<ProcessHandle> using(Path config) {
        Path wanted = real(config, Path.of(""));
        List<ProcessHandle> out = new ArrayList<>();
        if (wanted == null) {
            return out;
        }
        long self = ProcessHandle.current().pid();
        ProcessHandle.allProcesses().filter(p -> p.pid() != self).forEach(p -> {
            String[] args = arguments(p.pid());
            if (args.length < 2 || !mailproxy(args)) {
                return;
            }
            String file = configOf(args);
            if (file == null) {
                return;
            }
            Path cwd;
            try {
                cwd = Files.readSymbolicLink(Path.of("/proc", Long.toString(p.pid()), "cwd"));
            } catch (IOException | UnsupportedOperationException | SecurityException e) {
                cwd = Path.of("/");
            }
            if (wanted.equals(real(Path.of(file), cwd))) {
                out.add(p);
            }
        });
        return out;
    }

    /** Sends SIGHUP; null when sent, else why not. */
    static String hangUp(ProcessHandle p) {
        try {
            Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(p.pid())).redirectErrorStream(true).start();
            String said = new String(kill.getInputStream().readAllBytes()).trim();
            return kill.waitFor() == 0 ? null : said.isEmpty() ? "kill failed" : said;
        } catch (IOException e) {
            return e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /**
     * The process's command line from {@code /proc/PID/cmdline} (ProcessHandle's own view of it may
     * be cut short on long class paths); empty when it cannot be read.
     */
    private static String[] arguments(long pid) {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            String all = new String(raw, StandardCharsets.UTF_8);
            return all.isEmpty() ? new String[0] : all.split("\0");
        } catch (IOException | SecurityException e) {
            return new String[0];
        }
    }

    private static boolean mailproxy(String[] args) {
        String command = args[0];
        boolean java = command.endsWith("/java") || command.equals("java");
        boolean ours = false;
        for (String a : args) {
            if (a.contains("mailproxy") && (a.endsWith(".jar") || a.startsWith("io.mailproxy"))
                    || a.startsWith("-Dmailproxy.")) {
                ours = true;
            }
        }
        return java && ours;
    }

    /** The file after {@code run --config}, {@code run -c} or {@code run --config=}; null when not a run. */
    static String configOf(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (!args[i].equals("run")) {
                continue;
            }
            if (i + 2 < args.length && (args[i + 1].equals("--config") || args[i + 1].equals("-c"))) {
                return args[i + 2];
            }
            if (i + 1 < args.length && args[i + 1].startsWith("--config=")) {
                return args[i + 1].substring("--config=".length());
            }
        }
        return null;
    }

    private static Path real(Path file, Path cwd) {
        try {
            return cwd.resolve(file).toRealPath();
        } catch (IOException | SecurityException e) {
            return null;
        }
    }
}
