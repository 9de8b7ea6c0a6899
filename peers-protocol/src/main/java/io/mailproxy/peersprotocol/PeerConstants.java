package io.mailproxy.peersprotocol;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/**
 * Wire constants of HAProxy's peers protocol, version 2.1, with their names in HAProxy's
 * {@code src/peers.c} (2.6) and {@code doc/peers-v2.0.txt}.
 */
final class PeerConstants {

    private PeerConstants() {
    }

    /** {@code PEER_SESSION_PROTO_NAME}: the first word of a hello. */
    static final String PROTOCOL_NAME = "HAProxyS";
    /** {@code PEER_MAJOR_VER}. */
    static final int MAJOR_VERSION = 2;
    /** {@code PEER_MINOR_VER}: 2.1 added the timed updates (an expiry with each entry). */
    static final int MINOR_VERSION = 1;
    /** {@code PEER_DWNGRD_MINOR_VER}: a 2.0 peer gets no timed updates. */
    static final int DOWNGRADED_MINOR_VERSION = 0;

    /** {@code PEER_MSG_CLASS_CONTROL}. */
    static final int CLASS_CONTROL = 0;
    /** {@code PEER_MSG_CLASS_ERROR}. */
    static final int CLASS_ERROR = 1;
    /** {@code PEER_MSG_CLASS_STICKTABLE}. */
    static final int CLASS_STICKTABLE = 10;
    /** {@code PEER_MSG_CLASS_RESERVED}: a peer that sends it is in error. */
    static final int CLASS_RESERVED = 255;

    /** Message types at or above this carry an encoded length and data ({@code PEER_MSG_STKT_BIT_MASK}). */
    static final int TYPE_WITH_DATA = 0x80;

    /** {@code PEER_MSG_STKT_UPDATE}: an entry with its update id. */
    static final int STKT_UPDATE = 0x80;
    /** {@code PEER_MSG_STKT_INCUPDATE}: an entry whose update id is the previous one plus 1. */
    static final int STKT_INCUPDATE = 0x81;
    /** {@code PEER_MSG_STKT_DEFINE}. */
    static final int STKT_DEFINE = 0x82;
    /** {@code PEER_MSG_STKT_SWITCH}. */
    static final int STKT_SWITCH = 0x83;
    /** {@code PEER_MSG_STKT_ACK}. */
    static final int STKT_ACK = 0x84;
    /** {@code PEER_MSG_STKT_UPDATE_TIMED}: as UPDATE, with the entry's remaining life in ms. */
    static final int STKT_UPDATE_TIMED = 0x85;
    /** {@code PEER_MSG_STKT_INCUPDATE_TIMED}. */
    static final int STKT_INCUPDATE_TIMED = 0x86;

    /**
     * The longest message body accepted: HAProxy reads a message into its trash buffer, whose size
     * is {@code tune.bufsize} (16384 by default), and answers a longer one with a size-limit error.
     */
    static final int MAX_MESSAGE_LENGTH = 16384;
    /** A message length is a 32-bit value: 5 encoded bytes at most ({@code PEER_MSG_ENC_LENGTH_MAXLEN}). */
    static final int MAX_LENGTH_BYTES = 5;
    /**
     * The longest hello or status line, its LF included. HAProxy reads lines into the same 16 KB
     * buffer; a name longer than this is no peer name.
     */
    static final int MAX_LINE_LENGTH = 1024;
    /** Table definitions one connection may hold at once; HAProxy peers share a handful of tables. */
    static final int MAX_TABLES = 256;
    /** {@code STKTABLE_MAX_DT_ARRAY_SIZE}: elements of an array data type. */
    static final int MAX_ARRAY_ELEMENTS = 100;
    /** {@code PEER_STKT_CACHE_MAX_ENTRIES}: server keys each direction of a connection caches. */
    static final int DICTIONARY_ENTRIES = 128;

    /** Bytes on the wire are bytes: names are sent as UTF-8 and read back as UTF-8. */
    static final Charset NAMES = StandardCharsets.UTF_8;
}
