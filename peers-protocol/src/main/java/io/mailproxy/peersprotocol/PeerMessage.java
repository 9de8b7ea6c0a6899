package io.mailproxy.peersprotocol;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What travels between two peers: the two handshake lines ({@link Hello}, {@link Status}), then
 * messages of the control class ({@link Control}), the error class ({@link Error}) and the
 * stick-table class ({@link TableDefinition}, {@link TableSwitch}, {@link Update}, {@link Ack}).
 * Field names follow HAProxy's {@code doc/peers-v2.0.txt} and {@code src/peers.c}.
 */
public sealed interface PeerMessage {

    /**
     * The connecting side's three lines: {@code HAProxyS <major>.<minor>}, the name it expects the
     * accepting side to have, and {@code <its own name> <pid> <relative pid>}.
     *
     * @param to   the name of the peer this hello is for
     * @param from the sender's name
     * @param pids what follows the sender's name on the last line (HAProxy: its pid and 1)
     */
    record Hello(int major, int minor, String to, String from, String pids) implements PeerMessage {
        public Hello {
            Objects.requireNonNull(to, "to");
            Objects.requireNonNull(from, "from");
            Objects.requireNonNull(pids, "pids");
        }

        /** A hello of version 2.1 from {@code from} to {@code to}. */
        public static Hello of(String to, String from, long pid) {
            return new Hello(PeerConstants.MAJOR_VERSION, PeerConstants.MINOR_VERSION, to, from, pid + " 1");
        }

        /** Whether the sender speaks 2.0 only, which knows no timed updates. */
        public boolean downgraded() {
            return minor == PeerConstants.DOWNGRADED_MINOR_VERSION;
        }
    }

    /** The accepting side's answer to a hello: a code and a LF ({@link StatusCode}). */
    record Status(int code) implements PeerMessage {
        public StatusCode status() {
            return StatusCode.of(code);
        }
    }

    /** A control message: two bytes, no data. Unknown types are passed on and ignored by sessions. */
    record Control(int type) implements PeerMessage {
        /** {@code PEER_MSG_CTRL_RESYNCREQ}: send me your whole table. */
        public static final int RESYNC_REQUEST = 0;
        /** {@code PEER_MSG_CTRL_RESYNCFINISHED}: that was all, and I was up to date. */
        public static final int RESYNC_FINISHED = 1;
        /** {@code PEER_MSG_CTRL_RESYNCPARTIAL}: that was all I know, but I was not up to date myself. */
        public static final int RESYNC_PARTIAL = 2;
        /** {@code PEER_MSG_CTRL_RESYNCCONFIRM}: the answer to FINISHED or PARTIAL. */
        public static final int RESYNC_CONFIRM = 3;
        /** {@code PEER_MSG_CTRL_HEARTBEAT}: sent when nothing else was for 3 s. */
        public static final int HEARTBEAT = 4;

        public Control {
            if (type < 0 || type >= PeerConstants.TYPE_WITH_DATA) {
                throw new IllegalArgumentException("control type " + type + " is not within 0..127");
            }
        }

        /** HAProxy's name for the type ({@code ctrl_msg_type_str}). */
        public String typeName() {
            return switch (type) {
                case RESYNC_REQUEST -> "RESYNCREQ";
                case RESYNC_FINISHED -> "RESYNCFINISHED";
                case RESYNC_PARTIAL -> "RESYNCPARTIAL";
                case RESYNC_CONFIRM -> "RESYNCCONFIRM";
                case HEARTBEAT -> "HEARTBEAT";
                default -> "???";
            };
        }
    }

    /** An error message, sent just before the sender closes the connection. */
    record Error(int type) implements PeerMessage {
        /** {@code PEER_MSG_ERR_PROTOCOL}. */
        public static final int PROTOCOL = 0;
        /** {@code PEER_MSG_ERR_SIZELIMIT}. */
        public static final int SIZE_LIMIT = 1;

        public Error {
            if (type < 0 || type >= PeerConstants.TYPE_WITH_DATA) {
                throw new IllegalArgumentException("error type " + type + " is not within 0..127");
            }
        }
    }

    /**
     * Announces a table: the id the sender uses for it in switch and ack messages, its name (the
     * shared identifier), its key type and length, and the data types each update carries.
     *
     * @param keyType    2 signed integer, 4 IPv4, 5 IPv6, 6 string, 7 binary ({@code PEER_KT_*})
     * @param keyLength  the key's length, or its maximum for strings and binaries
     * @param dataTypes  bit n set: data type n follows the key in each update, in bit order
     *                   (0 {@code server_id}, 19 {@code server_key}, ...)
     * @param expire     the table's {@code expire} in ms, or null when the sender (a 2.0 peer) did not send it
     * @param parameters per data type that has some (arrays: the element count, then the period for
     *                   arrays of rates; rates: the period), in data-type order; empty without expire
     */
    record TableDefinition(int tableId, String name, int keyType, int keyLength, long dataTypes, Long expire,
                           Map<Integer, List<Long>> parameters) implements PeerMessage {
        /** {@code PEER_KT_IPV6}: HAProxy's {@code type ipv6}, the key of mailproxy's tables. */
        public static final int KEY_IPV6 = 5;
        /** {@code STKTABLE_DT_SERVER_ID}: the server's numeric id, {@code puid} in HAProxy. */
        public static final int DATA_SERVER_ID = 0;
        /** {@code STKTABLE_DT_SERVER_KEY}: the server's name (with {@code srvkey name}, the default). */
        public static final int DATA_SERVER_KEY = 19;

        public TableDefinition {
            Objects.requireNonNull(name, "name");
            // In data-type order, the order they travel in.
            Map<Integer, List<Long>> copy = new LinkedHashMap<>();
            new java.util.TreeMap<>(parameters).forEach((k, v) -> copy.put(k, List.copyOf(v)));
            parameters = java.util.Collections.unmodifiableMap(copy);
        }

        /** A table keyed by IPv6 addresses (16 bytes) whose updates carry the server's id and name. */
        public static TableDefinition ipv6Servers(int tableId, String name, long expireMillis) {
            return new TableDefinition(tableId, name, KEY_IPV6, 16,
                    (1L << DATA_SERVER_ID) | (1L << DATA_SERVER_KEY), expireMillis, Map.of());
        }

        /** Whether updates carry data type {@code type}. */
        public boolean has(int type) {
            return type >= 0 && type < 64 && (dataTypes & (1L << type)) != 0;
        }
    }

    /** Later updates are for the table the sender announced with this id. */
    record TableSwitch(int tableId) implements PeerMessage {
    }

    /**
     * One stick-table entry, for the table last announced or switched to.
     *
     * @param tableId    the sender's id of that table
     * @param updateId   the sender's update id (32 bits): sent, or the previous one of the table plus 1
     * @param explicitId whether the id was sent (UPDATE) or implied (INCUPDATE)
     * @param expire     the entry's remaining life in ms (timed updates of 2.1), or null: the
     *                   receiver's own {@code expire} applies
     * @param key        the key as sent (16 bytes for IPv6)
     * @param serverId   data type {@code server_id}, or null when the table has none
     * @param serverKey  data type {@code server_key} (the server's name), or null when the table or
     *                   this entry has none
     */
    record Update(int tableId, long updateId, boolean explicitId, Integer expire, byte[] key, Integer serverId,
                  String serverKey) implements PeerMessage {
        public Update {
            key = key.clone();
            if (updateId < 0 || updateId > 0xFFFF_FFFFL) {
                throw new IllegalArgumentException("update id " + updateId + " is not 32 bits");
            }
        }

        @Override
        public byte[] key() {
            return key.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Update u && tableId == u.tableId && updateId == u.updateId && explicitId == u.explicitId
                    && Objects.equals(expire, u.expire) && Arrays.equals(key, u.key)
                    && Objects.equals(serverId, u.serverId) && Objects.equals(serverKey, u.serverKey);
        }

        @Override
        public int hashCode() {
            return Objects.hash(tableId, updateId, explicitId, expire, Arrays.hashCode(key), serverId, serverKey);
        }

        @Override
        public String toString() {
            return "Update[tableId=" + tableId + ", updateId=" + updateId + (explicitId ? "" : " (implied)")
                    + ", expire=" + expire + ", key=" + io.netty.buffer.ByteBufUtil.hexDump(key)
                    + ", serverId=" + serverId + ", serverKey=" + serverKey + "]";
        }
    }

    /**
     * The receiver has applied the sender's updates of a table up to {@code updateId}: after a
     * reconnection the sender starts again from there.
     *
     * @param tableId the id the table's sender gave it (the receiver of the updates echoes it)
     */
    record Ack(int tableId, long updateId) implements PeerMessage {
        public Ack {
            if (updateId < 0 || updateId > 0xFFFF_FFFFL) {
                throw new IllegalArgumentException("update id " + updateId + " is not 32 bits");
            }
        }
    }
}
