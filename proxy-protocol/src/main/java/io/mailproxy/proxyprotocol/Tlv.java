package io.mailproxy.proxyprotocol;

import static io.mailproxy.proxyprotocol.ProxyConstants.CRC32C_LENGTH;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_TYPE_ALPN;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_TYPE_AUTHORITY;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_TYPE_CRC32C;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_TYPE_MAX_CUSTOM;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_TYPE_MIN_CUSTOM;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_TYPE_NETNS;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_TYPE_NOOP;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_TYPE_SSL;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_TYPE_UNIQUE_ID;
import static io.mailproxy.proxyprotocol.ProxyConstants.TLV_MAX_VALUE_LENGTH;
import static io.mailproxy.proxyprotocol.ProxyConstants.UNIQUE_ID_MAX_LENGTH;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A v2 TLV (spec 2.2). Immutable; byte arrays are copied in and out.
 *
 * <p>Values are kept as the bytes on the wire so a decoded header re-encodes byte for byte; the
 * text accessors ({@link Alpn#protocol()}, {@link Authority#hostName()}, {@link Netns#name()})
 * decode them as UTF-8 (invalid sequences become U+FFFD).
 */
public sealed interface Tlv permits Tlv.Alpn, Tlv.Authority, Tlv.Crc32c, Tlv.Noop, Tlv.UniqueId, Tlv.Netns,
        Tlv.Opaque, SslTlv {

    /** The type byte, 0..255. */
    int type();

    /** The value as encoded on the wire (a fresh copy). */
    byte[] value();

    /** The number of value bytes on the wire. */
    default int valueLength() {
        return value().length;
    }

    /** PP2_TYPE_ALPN (0x01), e.g. {@code "imap"}: Dovecot compares it with the listener's protocol. */
    static Alpn alpn(String protocol) {
        return new Alpn(protocol.getBytes(StandardCharsets.UTF_8));
    }

    /** PP2_TYPE_AUTHORITY (0x02): the SNI host name. */
    static Authority authority(String hostName) {
        return new Authority(hostName.getBytes(StandardCharsets.UTF_8));
    }

    /** PP2_TYPE_UNIQUE_ID (0x05): at most 128 bytes. */
    static UniqueId uniqueId(byte[] id) {
        return new UniqueId(id);
    }

    /** PP2_TYPE_NOOP (0x04): {@code length} zero bytes of padding. */
    static Noop noop(int length) {
        return new Noop(length);
    }

    /** PP2_TYPE_NETNS (0x30): the network namespace's name. */
    static Netns netns(String name) {
        return new Netns(name.getBytes(StandardCharsets.UTF_8));
    }

    /** An application-specific TLV, type 0xE0..0xEF (spec 2.2.8). */
    static Opaque custom(int type, byte[] value) {
        if (type < PP2_TYPE_MIN_CUSTOM || type > PP2_TYPE_MAX_CUSTOM) {
            throw new IllegalArgumentException(String.format(
                    "custom TLV type (0x%02X) is outside the custom range (0xE0..0xEF)", type));
        }
        return new Opaque(type, value);
    }

    /** Any TLV type without a dedicated record (custom, experimental, future, unregistered). */
    static Opaque opaque(int type, byte[] value) {
        return new Opaque(type, value);
    }

    /** PP2_TYPE_ALPN (0x01), spec 2.2.1: a byte sequence, in practice the TLS ALPN protocol id. */
    record Alpn(byte[] value) implements Tlv {
        public Alpn {
            value = Values.checkedCopy(value, TLV_MAX_VALUE_LENGTH, "ALPN");
        }

        @Override
        public int type() {
            return PP2_TYPE_ALPN;
        }

        @Override
        public byte[] value() {
            return value.clone();
        }

        @Override
        public int valueLength() {
            return value.length;
        }

        /** The protocol as text. */
        public String protocol() {
            return new String(value, StandardCharsets.UTF_8);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Alpn other && Arrays.equals(value, other.value);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return "ALPN(" + Values.text(value) + ")";
        }
    }

    /** PP2_TYPE_AUTHORITY (0x02), spec 2.2.2: the host name the client asked for (TLS SNI), UTF-8. */
    record Authority(byte[] value) implements Tlv {
        public Authority {
            value = Values.checkedCopy(value, TLV_MAX_VALUE_LENGTH, "AUTHORITY");
        }

        @Override
        public int type() {
            return PP2_TYPE_AUTHORITY;
        }

        @Override
        public byte[] value() {
            return value.clone();
        }

        @Override
        public int valueLength() {
            return value.length;
        }

        /** The host name as text. */
        public String hostName() {
            return new String(value, StandardCharsets.UTF_8);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Authority other && Arrays.equals(value, other.value);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return "AUTHORITY(" + Values.text(value) + ")";
        }
    }

    /**
     * PP2_TYPE_CRC32C (0x03), spec 2.2.3. Only found in decoded headers, where the decoder has
     * already verified it; the encoder drops it and computes a fresh one on request.
     */
    record Crc32c(int checksum) implements Tlv {
        @Override
        public int type() {
            return PP2_TYPE_CRC32C;
        }

        @Override
        public byte[] value() {
            return new byte[] {
                (byte) (checksum >>> 24), (byte) (checksum >>> 16), (byte) (checksum >>> 8), (byte) checksum
            };
        }

        @Override
        public int valueLength() {
            return CRC32C_LENGTH;
        }

        @Override
        public String toString() {
            return String.format("CRC32C(0x%08X)", checksum);
        }
    }

    /**
     * PP2_TYPE_NOOP (0x04), spec 2.2.4: padding. The content is ignored, only the length is kept
     * (and re-encoded as zeroes).
     */
    record Noop(int length) implements Tlv {
        public Noop {
            if (length < 0 || length > TLV_MAX_VALUE_LENGTH) {
                throw new IllegalArgumentException(
                        "NOOP length (" + length + ") is outside 0.." + TLV_MAX_VALUE_LENGTH);
            }
        }

        @Override
        public int type() {
            return PP2_TYPE_NOOP;
        }

        @Override
        public byte[] value() {
            return new byte[length];
        }

        @Override
        public int valueLength() {
            return length;
        }
    }

    /** PP2_TYPE_UNIQUE_ID (0x05), spec 2.2.5: an opaque connection id of up to 128 bytes. */
    record UniqueId(byte[] value) implements Tlv {
        public UniqueId {
            value = Values.checkedCopy(value, UNIQUE_ID_MAX_LENGTH, "UNIQUE_ID");
        }

        @Override
        public int type() {
            return PP2_TYPE_UNIQUE_ID;
        }

        @Override
        public byte[] value() {
            return value.clone();
        }

        @Override
        public int valueLength() {
            return value.length;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof UniqueId other && Arrays.equals(value, other.value);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return "UNIQUE_ID(" + Values.hex(value) + ")";
        }
    }

    /** PP2_TYPE_NETNS (0x30), spec 2.2.7: the US-ASCII name of the network namespace. */
    record Netns(byte[] value) implements Tlv {
        public Netns {
            value = Values.checkedCopy(value, TLV_MAX_VALUE_LENGTH, "NETNS");
        }

        @Override
        public int type() {
            return PP2_TYPE_NETNS;
        }

        @Override
        public byte[] value() {
            return value.clone();
        }

        @Override
        public int valueLength() {
            return value.length;
        }

        /** The namespace name as text. */
        public String name() {
            return new String(value, StandardCharsets.UTF_8);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Netns other && Arrays.equals(value, other.value);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return "NETNS(" + Values.text(value) + ")";
        }
    }

    /**
     * A TLV passed through untouched: the custom range 0xE0..0xEF (spec 2.2.8) and any type this
     * module gives no meaning to. Registered types (0x01..0x05, 0x20, 0x30) have their own records.
     */
    record Opaque(int type, byte[] value) implements Tlv {
        public Opaque {
            if (type < 0 || type > 0xFF) {
                throw new IllegalArgumentException("TLV type (" + type + ") is outside 0..255");
            }
            if (type >= PP2_TYPE_ALPN && type <= PP2_TYPE_UNIQUE_ID || type == PP2_TYPE_SSL || type == PP2_TYPE_NETNS) {
                throw new IllegalArgumentException(String.format(
                        "TLV type (0x%02X) is registered: use its own factory, not an opaque TLV", type));
            }
            value = Values.checkedCopy(value, TLV_MAX_VALUE_LENGTH, "TLV");
        }

        @Override
        public byte[] value() {
            return value.clone();
        }

        @Override
        public int valueLength() {
            return value.length;
        }

        /** Whether the type is in the application-specific range 0xE0..0xEF. */
        public boolean isCustom() {
            return type >= PP2_TYPE_MIN_CUSTOM && type <= PP2_TYPE_MAX_CUSTOM;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Opaque other && type == other.type && Arrays.equals(value, other.value);
        }

        @Override
        public int hashCode() {
            return 31 * type + Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return String.format("TLV(0x%02X, %s)", type, Values.hex(value));
        }
    }
}
