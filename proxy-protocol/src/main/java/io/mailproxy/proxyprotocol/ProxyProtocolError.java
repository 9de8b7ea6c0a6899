package io.mailproxy.proxyprotocol;

/**
 * Why a PROXY header was refused, named as HAProxy names its connection errors
 * ({@code CO_ER_PRX_*} in HAProxy's {@code connection.c}) so logs and stats read the same.
 *
 * <p>{@link #code()} is the short name for logs and counters; {@link #description()} the sentence.
 * The exact value and the expectation are in {@link ProxyProtocolException#detail()}.
 */
public enum ProxyProtocolError {
    /** The peer closed before sending a single byte. */
    PRX_EMPTY("Connection closed while waiting for PROXY protocol header"),
    /** Not raised by the decoder: for the idle handler that enforces the header timeout (spec 1: at least 3 s). */
    PRX_TIMEOUT("Timeout while waiting for PROXY protocol header"),
    /** The peer closed in the middle of a header. */
    PRX_TRUNCATED("Truncated PROXY protocol header received"),
    /** The first bytes are neither {@code "PROXY "} nor the v2 signature. */
    PRX_NOT_HDR("Received something which does not look like a PROXY protocol header"),
    /** A v1 line that does not follow the grammar, or contains a lone CR or LF. */
    PRX_BAD_HDR("Received an invalid PROXY protocol header"),
    /** The v2 version nibble is not 2. */
    PRX_BAD_VERSION("Received an unsupported PROXY protocol version"),
    /** The v2 command nibble is neither LOCAL (0) nor PROXY (1). */
    PRX_BAD_CMD("Received an unsupported command in the PROXY protocol header"),
    /** An unknown v1 protocol token, or a v2 family/transport byte outside the spec's list. */
    PRX_BAD_PROTO("Received an unhandled protocol in the PROXY protocol header"),
    /** A v2 header larger than the configured maximum, or a v1 line without CRLF in 107 bytes. */
    PRX_TOO_LONG("Received a PROXY protocol header longer than allowed"),
    /** A v2 length too short for the address block of its family. */
    PRX_BAD_LEN("Received a PROXY protocol header with an invalid address length"),
    /** A v1 address that is not a canonical address of the announced family. */
    PRX_BAD_ADDR("Received an invalid address in the PROXY protocol header"),
    /** A v1 port that is not a decimal integer in [0..65535] without heading zeroes. */
    PRX_BAD_PORT("Received an invalid port in the PROXY protocol header"),
    /** A TLV (or SSL sub-TLV) running past its container, or of a length its type forbids. */
    PRX_BAD_TLV_LEN("Received a TLV with an invalid length in the PROXY protocol header"),
    /** The CRC32C TLV does not match the header (spec 2.2.3: the receiver MUST treat it as invalid). */
    PRX_BAD_CRC("Received a PROXY protocol header with a bad CRC32C checksum"),
    /** A UNIQUE_ID TLV longer than the 128 bytes spec 2.2.5 allows. */
    PRX_UNIQUE_ID_TOO_LONG("Received a PROXY protocol UNIQUE_ID longer than 128 bytes");

    private final String description;

    ProxyProtocolError(String description) {
        this.description = description;
    }

    /** The short code for logs and stats, e.g. {@code PRX_BAD_HDR}. */
    public String code() {
        return name();
    }

    /** The sentence, in HAProxy's wording where HAProxy has one. */
    public String description() {
        return description;
    }
}
