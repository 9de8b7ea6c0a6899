package io.mailproxy.peersprotocol;

import static io.mailproxy.peersprotocol.PeerConstants.CLASS_CONTROL;
import static io.mailproxy.peersprotocol.PeerConstants.CLASS_ERROR;
import static io.mailproxy.peersprotocol.PeerConstants.CLASS_RESERVED;
import static io.mailproxy.peersprotocol.PeerConstants.CLASS_STICKTABLE;
import static io.mailproxy.peersprotocol.PeerConstants.DICTIONARY_ENTRIES;
import static io.mailproxy.peersprotocol.PeerConstants.MAX_ARRAY_ELEMENTS;
import static io.mailproxy.peersprotocol.PeerConstants.MAX_LENGTH_BYTES;
import static io.mailproxy.peersprotocol.PeerConstants.MAX_LINE_LENGTH;
import static io.mailproxy.peersprotocol.PeerConstants.MAX_MESSAGE_LENGTH;
import static io.mailproxy.peersprotocol.PeerConstants.MAX_TABLES;
import static io.mailproxy.peersprotocol.PeerConstants.NAMES;
import static io.mailproxy.peersprotocol.PeerConstants.TYPE_WITH_DATA;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decodes everything a peer sends on one connection: the handshake (a {@link PeerMessage.Hello}
 * on the accepting side, a {@link PeerMessage.Status} on the connecting side), then messages.
 *
 * <p>It trusts nothing: every length is checked against what is there before anything is read,
 * a message longer than {@value PeerConstants#MAX_MESSAGE_LENGTH} bytes is refused before it is
 * buffered, handshake lines are bounded, encoded integers stop at 64 bits, and the number of table
 * definitions and dictionary entries a peer can make it hold is bounded. Invalid input raises a
 * {@link PeerProtocolException} (through {@code exceptionCaught}) naming the error; the decoder
 * then discards everything after it. It does not close the channel: the session answers first
 * (a status for a bad hello, an error message after the handshake), as HAProxy does.
 *
 * <p>The decoder keeps the protocol's per-connection state, as HAProxy's {@code peer_treat_*}
 * functions do: the tables the peer defined (by the peer's id), the table updates refer to, each
 * table's last update id (for updates whose id is implied), and the server keys the peer cached.
 * An update is passed on only for a table whose every data type HAProxy 2.6 knows; others, and
 * updates before any table was named, are skipped whole, since their length is known. Messages of
 * unknown types are skipped too, as HAProxy skips them; a message of the reserved class is an error.
 * After a status other than 200 nothing more is decoded.
 */
public class PeerDecoder extends ByteToMessageDecoder {

    /** Which end of the connection this decoder reads for. */
    public enum Side {
        /** The peer connected to us: it sends a hello first. */
        ACCEPTING,
        /** We connected: the peer answers our hello with a status line. */
        CONNECTING
    }

    private enum Stage { VERSION, TO, FROM, STATUS, MESSAGES, DONE, FAILED }

    /** What a peer's table definition lets us read of its updates. */
    private static final class RemoteTable {
        final PeerMessage.TableDefinition definition;
        /** False when an update's length cannot be followed: a data type unknown to 2.6, or bad parameters. */
        final boolean readable;
        long lastUpdate;

        RemoteTable(PeerMessage.TableDefinition definition, boolean readable) {
            this.definition = definition;
            this.readable = readable;
        }
    }

    private Stage stage;
    private int major;
    private int minor;
    private String to;
    private final Map<Integer, RemoteTable> tables = new HashMap<>();
    private RemoteTable current;
    /** Server keys the peer sent, by its cache id minus 1 ({@code dcache->rx}). */
    private final String[] dictionary = new String[DICTIONARY_ENTRIES];

    public PeerDecoder(Side side) {
        this.stage = side == Side.ACCEPTING ? Stage.VERSION : Stage.STATUS;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (stage == Stage.DONE || stage == Stage.FAILED) {
            in.skipBytes(in.readableBytes());
            return;
        }
        try {
            while (in.isReadable() && stage != Stage.DONE && step(in, out)) {
                // one line or one message per step
            }
        } catch (PeerProtocolException e) {
            stage = Stage.FAILED;
            in.skipBytes(in.readableBytes());
            throw e;
        }
        if (stage == Stage.DONE) {
            in.skipBytes(in.readableBytes());
        }
    }

    /** Decodes one line or one message; false when more bytes are needed. */
    private boolean step(ByteBuf in, List<Object> out) {
        if (stage == Stage.MESSAGES) {
            return message(in, out);
        }
        String line = line(in);
        if (line == null) {
            return false;
        }
        switch (stage) {
            case VERSION -> {
                version(line);
                stage = Stage.TO;
            }
            case TO -> {
                to = line;
                stage = Stage.FROM;
            }
            case FROM -> {
                int space = line.indexOf(' ');
                if (space < 0) {
                    throw new PeerProtocolException(PeerProtocolError.PEER_BAD_HELLO,
                            "the hello's last line \"" + printable(line) + "\" is not \"<name> <pid> <relative pid>\"");
                }
                out.add(new PeerMessage.Hello(major, minor, to, line.substring(0, space), line.substring(space + 1)));
                stage = Stage.MESSAGES;
            }
            case STATUS -> {
                int code = status(line);
                out.add(new PeerMessage.Status(code));
                stage = code == StatusCode.SUCCESS.code() ? Stage.MESSAGES : Stage.DONE;
            }
            default -> throw new IllegalStateException(stage.name());
        }
        return true;
    }

    /** A line without its LF (and CR before it), or null while no LF has come. */
    private static String line(ByteBuf in) {
        int searched = Math.min(in.readableBytes(), MAX_LINE_LENGTH);
        int lf = in.indexOf(in.readerIndex(), in.readerIndex() + searched, (byte) '\n');
        if (lf < 0) {
            if (searched >= MAX_LINE_LENGTH) {
                throw new PeerProtocolException(PeerProtocolError.PEER_LINE_TOO_LONG,
                        "no end of line within " + MAX_LINE_LENGTH + " bytes");
            }
            return null;
        }
        int length = lf - in.readerIndex();
        if (length > 0 && in.getByte(lf - 1) == '\r') {
            length--;
        }
        String line = in.toString(in.readerIndex(), length, NAMES);
        in.readerIndex(lf + 1);
        return line;
    }

    /** {@code HAProxyS <major>.<minor>}, as {@code peer_getline_version} checks it. */
    private void version(String line) {
        String prefix = PeerConstants.PROTOCOL_NAME + " ";
        if (!line.startsWith(prefix)) {
            throw new PeerProtocolException(PeerProtocolError.PEER_BAD_HELLO,
                    "the hello starts \"" + printable(line) + "\", expected \"" + prefix + "2.1\"");
        }
        String v = line.substring(prefix.length());
        int dot = v.indexOf('.');
        int maj = dot > 0 ? number(v.substring(0, dot)) : -1;
        int min = dot > 0 ? number(v.substring(dot + 1)) : -1;
        if (maj != PeerConstants.MAJOR_VERSION || min < 0 || min > PeerConstants.MINOR_VERSION) {
            throw new PeerProtocolException(PeerProtocolError.PEER_BAD_VERSION,
                    "version \"" + printable(v) + "\", expected 2.0 or 2.1");
        }
        major = maj;
        minor = min;
    }

    private static int status(String line) {
        int code = number(line);
        if (code < 0) {
            throw new PeerProtocolException(PeerProtocolError.PEER_BAD_STATUS,
                    "status line \"" + printable(line) + "\" is not a number");
        }
        return code;
    }

    /** A decimal number of at most 9 digits, or -1. */
    private static int number(String s) {
        if (s.isEmpty() || s.length() > 9) {
            return -1;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return -1;
            }
        }
        return Integer.parseInt(s);
    }

    private boolean message(ByteBuf in, List<Object> out) {
        int start = in.readerIndex();
        if (in.readableBytes() < 2) {
            return false;
        }
        int messageClass = in.getUnsignedByte(start);
        int type = in.getUnsignedByte(start + 1);
        if (type < TYPE_WITH_DATA) {
            in.skipBytes(2);
            switch (messageClass) {
                case CLASS_CONTROL -> out.add(new PeerMessage.Control(type));
                case CLASS_ERROR -> out.add(new PeerMessage.Error(type));
                case CLASS_RESERVED -> throw reserved(type);
                default -> {
                    // unknown class: skipped, as HAProxy skips it
                }
            }
            return true;
        }
        ByteBuf lengthBytes = in.slice(start + 2, Math.min(in.readableBytes() - 2, MAX_LENGTH_BYTES));
        long length = VarInt.readOrMissing(lengthBytes, "message length");
        if (length == VarInt.MISSING) {
            if (lengthBytes.readableBytes() >= MAX_LENGTH_BYTES) {
                throw new PeerProtocolException(PeerProtocolError.PEER_BAD_VARINT,
                        "message length takes more than " + MAX_LENGTH_BYTES + " bytes");
            }
            return false;
        }
        // a varint is 64 bits unsigned: one past 2^63 reads negative here
        if (length < 0 || length > MAX_MESSAGE_LENGTH) {
            throw new PeerProtocolException(PeerProtocolError.PEER_MSG_TOO_LONG,
                    "message length (" + length + ") exceeds the maximum (" + MAX_MESSAGE_LENGTH + ")");
        }
        int header = 2 + lengthBytes.readerIndex();
        if (in.readableBytes() < header + length) {
            return false;
        }
        ByteBuf body = in.slice(start + header, (int) length);
        in.skipBytes(header + (int) length);
        if (messageClass == CLASS_RESERVED) {
            throw reserved(type);
        }
        if (messageClass == CLASS_STICKTABLE) {
            stickTable(type, body, out);
        }
        return true;
    }

    private static PeerProtocolException reserved(int type) {
        return new PeerProtocolException(PeerProtocolError.PEER_RESERVED_CLASS,
                "message of class 255, type " + type);
    }

    private void stickTable(int type, ByteBuf body, List<Object> out) {
        switch (type) {
            case PeerConstants.STKT_DEFINE -> out.add(definition(body));
            case PeerConstants.STKT_SWITCH -> {
                int id = tableId(body);
                current = tables.get(id);
                out.add(new PeerMessage.TableSwitch(id));
            }
            case PeerConstants.STKT_ACK -> {
                int id = tableId(body);
                need(body, 4, "ack update id");
                out.add(new PeerMessage.Ack(id, body.readUnsignedInt()));
            }
            case PeerConstants.STKT_UPDATE, PeerConstants.STKT_INCUPDATE, PeerConstants.STKT_UPDATE_TIMED,
                    PeerConstants.STKT_INCUPDATE_TIMED -> {
                PeerMessage.Update update = update(type, body);
                if (update != null) {
                    out.add(update);
                }
            }
            default -> {
                // a type this version does not know: skipped, as HAProxy skips it
            }
        }
    }

    /**
     * {@code peer_treat_definemsg}: the id, a name of at least one byte that does not end the
     * message, the key type and length, and the data types; then, from 2.1 on, the expire and
     * each data type's parameters.
     */
    private PeerMessage.TableDefinition definition(ByteBuf body) {
        int id = tableId(body);
        long nameLength = VarInt.read(body, "table name length");
        if (nameLength <= 0 || nameLength >= body.readableBytes()) {
            throw new PeerProtocolException(PeerProtocolError.PEER_BAD_DEFINITION, "table name length (" + nameLength
                    + ") is 0 or leaves none of the " + body.readableBytes() + " remaining byte(s) for the key type");
        }
        String name = body.readCharSequence((int) nameLength, NAMES).toString();
        long keyType = VarInt.read(body, "key type");
        long keyLength = VarInt.read(body, "key length");
        long dataTypes = VarInt.read(body, "data types");
        Long expire = null;
        Map<Integer, List<Long>> parameters = new LinkedHashMap<>();
        boolean readable = keyType <= 0xFF && keyLength <= MAX_MESSAGE_LENGTH && (dataTypes & ~DataType.KNOWN) == 0;
        if (body.isReadable()) {
            expire = VarInt.read(body, "expire");
            readable &= parameters(body, dataTypes, parameters);
        } else {
            for (int bit = 0; bit < 64 && readable; bit++) {
                DataType t = (dataTypes & (1L << bit)) != 0 ? DataType.of(bit) : null;
                // An array's length is a parameter: without them it cannot be read.
                readable = t == null || !t.array;
            }
        }
        PeerMessage.TableDefinition definition = new PeerMessage.TableDefinition(id, name, (int) Math.min(keyType, Integer.MAX_VALUE),
                (int) Math.min(keyLength, Integer.MAX_VALUE), dataTypes, expire, parameters);
        if (!tables.containsKey(id) && tables.size() >= MAX_TABLES) {
            throw new PeerProtocolException(PeerProtocolError.PEER_TOO_MANY_TABLES,
                    "a definition of table id " + id + " beyond " + MAX_TABLES + " tables");
        }
        current = new RemoteTable(definition, readable);
        tables.put(id, current);
        return definition;
    }

    /**
     * The parameters after the expire: for each data type that has some, in bit order, the type
     * itself, then an array's element count, then a rate's period. False when they do not match
     * the data types (HAProxy then ignores the table).
     */
    private static boolean parameters(ByteBuf body, long dataTypes, Map<Integer, List<Long>> parameters) {
        for (int bit = 0; bit < 64; bit++) {
            if ((dataTypes & (1L << bit)) == 0) {
                continue;
            }
            DataType t = DataType.of(bit);
            if (t == null) {
                return false;
            }
            if (!t.hasParameters()) {
                continue;
            }
            List<Long> values = new ArrayList<>();
            if (!body.isReadable() || VarInt.read(body, "data type parameter") != bit) {
                return false;
            }
            if (t.array) {
                if (!body.isReadable()) {
                    return false;
                }
                long elements = VarInt.read(body, "array size");
                if (elements < 0 || elements > MAX_ARRAY_ELEMENTS) {
                    return false;
                }
                values.add(elements);
            }
            if (t.encoding == DataType.Encoding.RATE) {
                if (!body.isReadable()) {
                    return false;
                }
                values.add(VarInt.read(body, "rate period"));
            }
            parameters.put(bit, values);
        }
        return true;
    }

    /** {@code peer_treat_updatemsg}, for the current table; null when it cannot be read or there is none. */
    private PeerMessage.Update update(int type, ByteBuf body) {
        RemoteTable table = current;
        if (table == null || !table.readable) {
            return null;
        }
        boolean explicit = type == PeerConstants.STKT_UPDATE || type == PeerConstants.STKT_UPDATE_TIMED;
        boolean timed = type == PeerConstants.STKT_UPDATE_TIMED || type == PeerConstants.STKT_INCUPDATE_TIMED;
        long id;
        if (explicit) {
            need(body, 4, "update id");
            id = body.readUnsignedInt();
        } else {
            id = (table.lastUpdate + 1) & 0xFFFF_FFFFL;
        }
        table.lastUpdate = id;
        Integer expire = null;
        if (timed) {
            need(body, 4, "expire");
            expire = body.readInt();
        }
        PeerMessage.TableDefinition d = table.definition;
        byte[] key = key(body, d);
        Integer serverId = null;
        String serverKey = null;
        for (int bit = 0; bit < 64; bit++) {
            if (!d.has(bit)) {
                continue;
            }
            DataType t = DataType.of(bit);
            int elements = t.array ? d.parameters().get(bit).get(0).intValue() : 1;
            for (int e = 0; e < elements; e++) {
                switch (t.encoding) {
                    case INTEGER -> {
                        long v = VarInt.read(body, "data type " + bit);
                        if (bit == PeerMessage.TableDefinition.DATA_SERVER_ID) {
                            serverId = (int) v;
                        }
                    }
                    case RATE -> {
                        VarInt.read(body, "data type " + bit + " period age");
                        VarInt.read(body, "data type " + bit + " current count");
                        VarInt.read(body, "data type " + bit + " previous count");
                    }
                    case DICTIONARY -> {
                        String value = dictionaryValue(body);
                        if (bit == PeerMessage.TableDefinition.DATA_SERVER_KEY) {
                            serverKey = value;
                        }
                    }
                }
            }
        }
        return new PeerMessage.Update(d.tableId(), id, explicit, expire, key, serverId, serverKey);
    }

    private static byte[] key(ByteBuf body, PeerMessage.TableDefinition d) {
        int length;
        if (d.keyType() == 6) {
            long n = VarInt.read(body, "string key length");
            need(body, n, "string key");
            length = (int) n;
        } else if (d.keyType() == 2) {
            length = 4;
        } else {
            length = d.keyLength();
        }
        need(body, length, "key");
        byte[] key = new byte[length];
        body.readBytes(key);
        return key;
    }

    /**
     * A {@code STD_T_DICT} value: its length (0: none), then the peer's cache id (1 to 128) and,
     * when the value is sent for the first time, its length and bytes, which the cache keeps.
     */
    private String dictionaryValue(ByteBuf body) {
        long length = VarInt.read(body, "server key length");
        if (length == 0) {
            return null;
        }
        need(body, length, "server key");
        ByteBuf value = body.readSlice((int) length);
        long id = VarInt.read(value, "server key id");
        if (id <= 0 || id > DICTIONARY_ENTRIES) {
            throw new PeerProtocolException(PeerProtocolError.PEER_BAD_DICTIONARY,
                    "server key id " + id + " is not within 1.." + DICTIONARY_ENTRIES);
        }
        if (!value.isReadable()) {
            // A key without value: the one cached under that id (none yet: no server key, as in HAProxy).
            return dictionary[(int) id - 1];
        }
        long n = VarInt.read(value, "server key value length");
        need(value, n, "server key value");
        String s = value.readCharSequence((int) n, NAMES).toString();
        dictionary[(int) id - 1] = s;
        return s;
    }

    private static int tableId(ByteBuf body) {
        long id = VarInt.read(body, "table id");
        if (id < 0 || id > Integer.MAX_VALUE) {
            throw new PeerProtocolException(PeerProtocolError.PEER_BAD_DEFINITION,
                    "table id " + id + " exceeds " + Integer.MAX_VALUE);
        }
        return (int) id;
    }

    private static void need(ByteBuf body, long n, String what) {
        // a varint is 64 bits unsigned: one past 2^63 reads negative here
        if (n < 0 || n > body.readableBytes()) {
            throw new PeerProtocolException(PeerProtocolError.PEER_BAD_LENGTH,
                    what + " needs " + n + " byte(s), " + body.readableBytes() + " left in the message");
        }
    }

    /** A line for an error message: control characters escaped, at most 64 characters. */
    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        int n = Math.min(s.length(), 64);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7F) {
                b.append(String.format("\\x%02x", (int) c));
            } else {
                b.append(c);
            }
        }
        return n < s.length() ? b + "..." : b.toString();
    }
}
