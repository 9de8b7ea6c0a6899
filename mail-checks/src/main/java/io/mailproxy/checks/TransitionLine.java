package io.mailproxy.checks;

/**
 * Renders state change lines as HAProxy does ({@code srv_append_status()} in {@code src/server.c}):
 * <pre>
 * Server imap-pool/dc1 is DOWN, reason: Layer7 wrong status, code: 0, info: "* BYE", check duration: 3ms. 1 active and 0 backup servers left.
 * </pre>
 * HAProxy goes on with {@code " N sessions active, N requeued, N remaining in queue"}: sessions and
 * queues belong to the relay, not to the checker, so that tail is left out.
 */
final class TransitionLine {

    private TransitionLine() {
    }

    static String format(String backend, String server, boolean up, CheckResult result, ServerCounts counts) {
        StringBuilder line = new StringBuilder(160)
                .append("Server ").append(backend).append('/').append(server)
                .append(up ? " is UP" : " is DOWN")
                .append(", reason: ").append(result.status().description());
        if (result.status().reportsCode()) {
            line.append(", code: ").append(result.code());
        }
        if (!result.info().isEmpty()) {
            // already encoded by CheckResult.of: it cannot contain a quote or a control character
            line.append(", info: \"").append(result.info()).append('"');
        }
        line.append(", check duration: ").append(result.durationMillis()).append("ms. ")
                .append(counts.active()).append(" active and ").append(counts.backup())
                .append(up ? " backup servers online." : " backup servers left.");
        if (counts.backup() > 0 && counts.active() == 0) {
            line.append(" Running on backup.");
        }
        return line.toString();
    }

    /** A state forced by an admin, as HAProxy logs it: {@code Server b/s is DOWN, changed from CLI. ...}. */
    static String forced(String backend, String server, boolean up, ServerCounts counts) {
        return "Server " + backend + "/" + server + (up ? " is UP" : " is DOWN") + ", changed from CLI. "
                + counts.active() + " active and " + counts.backup() + (up ? " backup servers online." : " backup servers left.");
    }

    /** HAProxy's alert when a backend has nothing left ({@code srv_set_stopped()}). */
    static String noServerAvailable(String backend) {
        return "backend " + backend + " has no server available!";
    }
}
