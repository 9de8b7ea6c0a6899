package io.mailproxy.peers;

/**
 * Why a peer connection ended or was refused: a short code for the log line and a sentence.
 */
enum PeerEnd {
    CLOSED_BY_PEER("closed-by-peer", "the peer closed the connection"),
    TIMEOUT("peer-timeout", "nothing came from the peer for " + PeerSession.READ_TIMEOUT_SECONDS + " s, not even a heartbeat"),
    PROTOCOL_ERROR("protocol-error", "the peer sent what the protocol does not allow"),
    ERROR_FROM_PEER("error-from-peer", "the peer reported an error and closed"),
    REFUSED("refused", "the peer refused this node's hello"),
    HELLO_REFUSED("hello-refused", "this node refused the peer's hello"),
    REPLACED("replaced", "a newer connection with the same peer replaced this one"),
    UNTRUSTED("untrusted-peer", "the connection does not come from the address of a configured node"),
    CONNECT_FAILED("connect-failed", "the connection to the peer failed"),
    TLS_HANDSHAKE("tls-handshake", "the TLS handshake with the peer failed"),
    IO_ERROR("io-error", "the connection failed"),
    STOPPING("stopping", "mailproxy is stopping");

    private final String code;
    private final String sentence;

    PeerEnd(String code, String sentence) {
        this.code = code;
        this.sentence = sentence;
    }

    String code() {
        return code;
    }

    String sentence() {
        return sentence;
    }
}
