package io.mailproxy.peersprotocol;

/**
 * Why a peer connection was refused or cut, as the peers protocol itself can tell it.
 *
 * <p>{@link #code()} is the short name for logs and counters; {@link #description()} the sentence.
 * {@link #status()} is the handshake status a refused hello is answered with (HAProxy's
 * {@code PEER_SESS_SC_*}), or 0 for errors after the handshake, which are answered with an error
 * message ({@link #sizeLimit()}: HAProxy's "size limit reached", otherwise "protocol error") before
 * the connection is closed.
 */
public enum PeerProtocolError {
    /** A hello that does not start with {@code HAProxyS }, or a last line without a space. */
    PEER_BAD_HELLO("Received an invalid peers hello", 501),
    /** A version other than 2.0 or 2.1. */
    PEER_BAD_VERSION("Received an unsupported peers protocol version", 502),
    /** A handshake line without LF within the allowed length. */
    PEER_LINE_TOO_LONG("Received a peers handshake line longer than allowed", 501),
    /** The status line is not a number. */
    PEER_BAD_STATUS("Received an invalid peers handshake status", 0),
    /** A message length above the maximum. */
    PEER_MSG_TOO_LONG("Received a peers message longer than allowed", 0),
    /** A variable-length integer cut short, too long, or beyond 64 bits. */
    PEER_BAD_VARINT("Received an invalid encoded integer", 0),
    /** A message whose fields run past its length, or whose length has bytes left over where none may be. */
    PEER_BAD_LENGTH("Received a peers message whose fields do not fit its length", 0),
    /** A table definition that cannot be read: no name, a key length its type forbids, bad data type parameters. */
    PEER_BAD_DEFINITION("Received an invalid stick-table definition", 0),
    /** More table definitions than one connection may hold. */
    PEER_TOO_MANY_TABLES("Received more stick-table definitions than allowed", 0),
    /** A server key (dictionary entry) with id 0, above the cache, or naming an empty slot. */
    PEER_BAD_DICTIONARY("Received an invalid server key dictionary entry", 0),
    /** A message of the reserved class 255. */
    PEER_RESERVED_CLASS("Received a message of the reserved class", 0),
    /** The peer sent an error message (protocol error or size limit) before closing. */
    PEER_ERROR_RECEIVED("The peer reported an error", 0);

    private final String description;
    private final int status;

    PeerProtocolError(String description, int status) {
        this.description = description;
        this.status = status;
    }

    /** The short code for logs and stats, e.g. {@code PEER_BAD_VERSION}. */
    public String code() {
        return name();
    }

    public String description() {
        return description;
    }

    /** The handshake status that answers this error, 0 when it happens after the handshake. */
    public int status() {
        return status;
    }

    /** Whether the answer is HAProxy's "size limit reached" error message rather than "protocol error". */
    public boolean sizeLimit() {
        return this == PEER_MSG_TOO_LONG;
    }
}
