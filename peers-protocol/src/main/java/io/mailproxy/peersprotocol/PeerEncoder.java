package io.mailproxy.peersprotocol;

import static io.mailproxy.peersprotocol.PeerConstants.CLASS_CONTROL;
import static io.mailproxy.peersprotocol.PeerConstants.CLASS_ERROR;
import static io.mailproxy.peersprotocol.PeerConstants.CLASS_STICKTABLE;
import static io.mailproxy.peersprotocol.PeerConstants.NAMES;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.util.List;
import java.util.Map;

/**
 * Writes the peers protocol as HAProxy 2.6 writes it ({@code peer_prepare_*msg} in
 * {@code src/peers.c}): the same bytes for the same message, so that an HAProxy peer cannot tell
 * mailproxy from another HAProxy. Each method appends one line or message to {@code out}.
 */
public final class PeerEncoder {

    private PeerEncoder() {
    }

    /** {@code HAProxyS 2.1\n<to>\n<from> <pids>\n}. */
    public static void hello(ByteBuf out, PeerMessage.Hello hello) {
        ByteBufUtil.writeUtf8(out, PeerConstants.PROTOCOL_NAME + " " + hello.major() + "." + hello.minor() + "\n"
                + hello.to() + "\n" + hello.from() + " " + hello.pids() + "\n");
    }

    /** A handshake status: the code and a LF, e.g. {@code 200\n}. */
    public static void status(ByteBuf out, StatusCode status) {
        ByteBufUtil.writeAscii(out, status.code() + "\n");
    }

    /** A two-byte control message. */
    public static void control(ByteBuf out, int type) {
        out.writeByte(CLASS_CONTROL).writeByte(new PeerMessage.Control(type).type());
    }

    /** A two-byte error message. */
    public static void error(ByteBuf out, int type) {
        out.writeByte(CLASS_ERROR).writeByte(new PeerMessage.Error(type).type());
    }

    /**
     * A table definition: id, name, key type and length, data types, expire, then the parameters of
     * the data types that have some.
     */
    public static void definition(ByteBuf out, PeerMessage.TableDefinition d) {
        byte[] name = d.name().getBytes(NAMES);
        int length = VarInt.length(d.tableId()) + VarInt.length(name.length) + name.length + VarInt.length(d.keyType())
                + VarInt.length(d.keyLength()) + VarInt.length(d.dataTypes());
        if (d.expire() != null) {
            length += VarInt.length(d.expire());
            for (Map.Entry<Integer, List<Long>> p : d.parameters().entrySet()) {
                length += VarInt.length(p.getKey());
                for (long v : p.getValue()) {
                    length += VarInt.length(v);
                }
            }
        }
        header(out, PeerConstants.STKT_DEFINE, length);
        VarInt.write(out, d.tableId());
        VarInt.write(out, name.length);
        out.writeBytes(name);
        VarInt.write(out, d.keyType());
        VarInt.write(out, d.keyLength());
        VarInt.write(out, d.dataTypes());
        if (d.expire() != null) {
            VarInt.write(out, d.expire());
            for (Map.Entry<Integer, List<Long>> p : d.parameters().entrySet()) {
                VarInt.write(out, p.getKey());
                for (long v : p.getValue()) {
                    VarInt.write(out, v);
                }
            }
        }
    }

    /** Later updates are for the table this side announced as {@code tableId}. */
    public static void tableSwitch(ByteBuf out, int tableId) {
        header(out, PeerConstants.STKT_SWITCH, VarInt.length(tableId));
        VarInt.write(out, tableId);
    }

    /** The peer's updates of its table {@code tableId} are applied up to {@code updateId}. */
    public static void ack(ByteBuf out, int tableId, long updateId) {
        header(out, PeerConstants.STKT_ACK, VarInt.length(tableId) + 4);
        VarInt.write(out, tableId);
        out.writeInt((int) updateId);
    }

    /**
     * An update of a table whose data types are among {@code server_id} and {@code server_key}
     * (what mailproxy announces): the update id when {@code explicitId} (UPDATE), else none
     * (INCUPDATE: the previous id plus 1); the remaining life when {@code expire} is not null (the
     * TIMED types, for 2.1 peers); the key; then the server's id and name as the definition lists
     * them. A name {@code keys} has sent before travels as its cache id alone.
     *
     * @throws IllegalArgumentException when the definition announces other data types, or the key
     *     does not have the definition's length
     */
    public static void update(ByteBuf out, PeerMessage.TableDefinition d, long updateId, boolean explicitId,
                              Integer expire, byte[] key, int serverId, String serverKey, ServerKeyCache keys) {
        long others = d.dataTypes() & ~((1L << PeerMessage.TableDefinition.DATA_SERVER_ID)
                | (1L << PeerMessage.TableDefinition.DATA_SERVER_KEY));
        if (others != 0 || key.length != d.keyLength() || d.keyType() == 6 || d.keyType() == 2) {
            throw new IllegalArgumentException("updates are written for fixed-length keys with server_id and server_key only");
        }
        boolean withId = d.has(PeerMessage.TableDefinition.DATA_SERVER_ID);
        boolean withKey = d.has(PeerMessage.TableDefinition.DATA_SERVER_KEY);
        int length = (explicitId ? 4 : 0) + (expire != null ? 4 : 0) + key.length
                + (withId ? VarInt.length(Integer.toUnsignedLong(serverId)) : 0);
        int cached = -1;
        byte[] name = null;
        int dictionaryLength = 0;
        if (withKey && serverKey != null) {
            cached = keys.idOf(serverKey);
            if (cached >= 0) {
                dictionaryLength = VarInt.length(cached + 1L);
            } else {
                name = serverKey.getBytes(NAMES);
                cached = keys.add(serverKey);
                dictionaryLength = VarInt.length(cached + 1L) + VarInt.length(name.length) + name.length;
            }
            length += VarInt.length(dictionaryLength) + dictionaryLength;
        } else if (withKey) {
            length += 1;
        }
        int type = expire != null
                ? explicitId ? PeerConstants.STKT_UPDATE_TIMED : PeerConstants.STKT_INCUPDATE_TIMED
                : explicitId ? PeerConstants.STKT_UPDATE : PeerConstants.STKT_INCUPDATE;
        header(out, type, length);
        if (explicitId) {
            out.writeInt((int) updateId);
        }
        if (expire != null) {
            out.writeInt(expire);
        }
        out.writeBytes(key);
        if (withId) {
            VarInt.write(out, Integer.toUnsignedLong(serverId));
        }
        if (withKey) {
            VarInt.write(out, dictionaryLength);
            if (dictionaryLength > 0) {
                VarInt.write(out, cached + 1L);
                if (name != null) {
                    VarInt.write(out, name.length);
                    out.writeBytes(name);
                }
            }
        }
    }

    private static void header(ByteBuf out, int type, int length) {
        out.writeByte(CLASS_STICKTABLE).writeByte(type);
        VarInt.write(out, length);
    }
}
