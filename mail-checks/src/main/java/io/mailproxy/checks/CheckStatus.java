package io.mailproxy.checks;

/**
 * The outcome of one check, named and described as HAProxy names them ({@code check_statuses[]} in
 * HAProxy's {@code src/check.c}), so logs, stats and monitoring carry over unchanged.
 */
public enum CheckStatus {
    /** The connection could not even be attempted (e.g. out of file descriptors), or broke after it was up. */
    SOCKERR("Socket error", false, false),
    /** Connected ({@code tcp} checks without TLS). */
    L4OK("Layer4 check passed", true, false),
    /** The TCP connect did not complete within the timeout. */
    L4TOUT("Layer4 timeout", false, false),
    /** The TCP connect failed: refused (RST), no route to host, ... */
    L4CON("Layer4 connection problem", false, false),
    /** The TLS handshake completed ({@code tcp} checks with TLS). */
    L6OK("Layer6 check passed", true, false),
    /** The TLS handshake did not complete within the timeout. */
    L6TOUT("Layer6 timeout", false, false),
    /** The TLS handshake failed. */
    L6RSP("Layer6 invalid response", false, false),
    /** The protocol conversation succeeded. */
    L7OK("Layer7 check passed", true, true),
    /** No (complete) reply within the timeout. */
    L7TOUT("Layer7 timeout", false, false),
    /** The reply was not the protocol, a line was too long, or the server closed mid-conversation. */
    L7RSP("Layer7 invalid response", false, false),
    /** The server spoke the protocol but refused: {@code * BYE}, {@code -ERR}, {@code 421 ...}. */
    L7STS("Layer7 wrong status", false, true);

    private final String description;
    private final boolean passed;
    private final boolean reportsCode;

    CheckStatus(String description, boolean passed, boolean reportsCode) {
        this.description = description;
        this.passed = passed;
        this.reportsCode = reportsCode;
    }

    /** The short code shown as LastChk, e.g. {@code L7STS}. */
    public String code() {
        return name();
    }

    /** HAProxy's sentence for this status, e.g. {@code Layer7 wrong status}. */
    public String description() {
        return description;
    }

    /** Whether this status counts as a successful check. */
    public boolean passed() {
        return passed;
    }

    /**
     * Whether a reply code goes with this status. HAProxy prints {@code code: N} only for statuses
     * that carry layer-7 data ({@code status >= HCHK_STATUS_L57DATA}): L7OK and L7STS here.
     */
    public boolean reportsCode() {
        return reportsCode;
    }
}
