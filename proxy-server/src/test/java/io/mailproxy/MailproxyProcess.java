package io.mailproxy;

import io.mailproxy.session.ProxyRunner;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * {@code mailproxy run --config FILE} in a child JVM, as an admin or systemd runs it, signalled
 * with kill(1); its output is read into {@link #lines} (unless the test wants it left unread).
 */
final class MailproxyProcess implements AutoCloseable {

    final Process process;
    final List<String> lines = new CopyOnWriteArrayList<>();

    private MailproxyProcess(Process process) {
        this.process = process;
    }

    /** Runs with the test's class path; {@code readOutput}: read its output from the start. */
    static MailproxyProcess start(Path config, boolean readOutput) throws IOException {
        return start(config, readOutput, null, System.getProperty("java.class.path"));
    }

    /**
     * Runs with {@code classPath}, under {@code shell} when not null: a bash command run first, in
     * the same process (e.g. {@code ulimit -n 400}).
     */
    static MailproxyProcess start(Path config, boolean readOutput, String shell, String classPath) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>();
        if (shell != null) {
            command.addAll(List.of("bash", "-c", shell + " && exec \"$0\" -cp \"$1\" " + Main.class.getName()
                    + " run --config \"$2\"", java, classPath, config.toString()));
        } else {
            command.addAll(List.of(java, "-cp", classPath, Main.class.getName(), "run", "--config", config.toString()));
        }
        MailproxyProcess p = new MailproxyProcess(new ProcessBuilder(command).redirectErrorStream(true).start());
        if (readOutput) {
            p.readOutput();
        }
        return p;
    }

    /** Reads the output from now on, in a thread of its own. */
    void readOutput() {
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("(output closed)");
            }
        });
        reader.setDaemon(true);
        reader.start();
    }

    boolean awaitLine(String fragment, Duration timeout) {
        return ProxyRunner.await(() -> lines.stream().anyMatch(l -> l.contains(fragment)), timeout);
    }

    /** Sends SIG{@code name} with kill(1): Process.destroy() would also close our end of its output. */
    void signal(String name) throws Exception {
        int exit = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).start().waitFor();
        if (exit != 0) {
            throw new AssertionError("kill -" + name + " exited " + exit);
        }
    }

    String output() {
        return String.join("\n", lines);
    }

    @Override
    public void close() throws Exception {
        if (process.isAlive()) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
