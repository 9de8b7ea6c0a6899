package io.mailproxy.dovecot;

import java.time.Duration;
import java.util.List;

/** Whether a Docker engine answers here, asked once per JVM through the {@code docker} command. */
final class DockerEngine {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static volatile String reason;

    private DockerEngine() {
    }

    /** Null when {@code docker version} reaches a server, else why not, with what to do. */
    static String unavailableReason() {
        String r = reason;
        if (r == null) {
            r = ask();
            reason = r;
        }
        return r.isEmpty() ? null : r;
    }

    /** Empty when the engine answered. */
    private static String ask() {
        if (Commands.find("docker") == null) {
            return "no docker command here: apt-get install -y docker.io, then start dockerd";
        }
        Commands.Result r;
        try {
            r = Commands.exec(List.of("docker", "version", "--format", "{{.Server.Version}}"), TIMEOUT, null);
        } catch (DovecotException e) {
            return "the Docker engine did not answer: " + e.getMessage();
        }
        if (!r.ok()) {
            return "no Docker engine answers (docker version: " + r.output().lines().reduce((a, b) -> b).orElse("")
                    + "); start one, e.g. dockerd --bridge=none --iptables=false";
        }
        return "";
    }
}
