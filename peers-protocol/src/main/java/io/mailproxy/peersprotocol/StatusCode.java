package io.mailproxy.peersprotocol;

/**
 * Handshake status codes ({@code PEER_SESS_SC_*} in HAProxy's {@code src/peers.c}), with the four
 * letters HAProxy's {@code show peers} prints for them as {@code last_status}. CONNECTING and
 * CONNECTED never travel: they are a connecting side's own states.
 */
public enum StatusCode {
    /** No connection attempted yet. */
    NONE(0, "NONE"),
    /** TCP connect in progress. */
    CONNECTING(100, "CONN"),
    /** TCP connected, hello sent, waiting for the status. */
    CONNECTED(110, "HSHK"),
    SUCCESS(200, "ESTA"),
    /** The accepting side already has a session with this peer (HAProxy: only for its local peer). */
    TRY_AGAIN(300, "RETR"),
    PROTOCOL_ERROR(501, "PROT"),
    BAD_VERSION(502, "VERS"),
    /** The hello names someone else as the receiving peer. */
    LOCAL_NAME_MISMATCH(503, "NAME"),
    /** The hello's sender is not a configured peer. */
    UNKNOWN_PEER(504, "UNKN");

    private final int code;
    private final String shortName;

    StatusCode(int code, String shortName) {
        this.code = code;
        this.shortName = shortName;
    }

    public int code() {
        return code;
    }

    /** HAProxy's {@code statuscode_str}: ESTA, RETR, PROT, VERS, NAME, UNKN, CONN, HSHK, NONE. */
    public String shortName() {
        return shortName;
    }

    /** The status for a received code; unknown codes read as NONE, as HAProxy prints them. */
    public static StatusCode of(int code) {
        for (StatusCode s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        return NONE;
    }
}
