package io.mailproxy.proxyprotocol;

import java.nio.charset.StandardCharsets;

/** Wire constants of HAProxy's {@code doc/proxy-protocol.txt}; section numbers refer to it. */
final class ProxyConstants {

    /** 2.1: the v1 line starts with "PROXY" and exactly one space. */
    static final byte[] V1_PREFIX = "PROXY ".getBytes(StandardCharsets.US_ASCII);
    /** 2.1: the worst-case v1 line, CRLF included, is 107 bytes. */
    static final int V1_MAX_LENGTH = 107;

    /** 2.2: the 12-byte v2 signature. */
    static final byte[] V2_SIGNATURE = {
        0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A
    };
    /** 2.2: signature, ver_cmd, fam and the u16 len: the fixed part of every v2 header. */
    static final int V2_FIXED_LENGTH = 16;
    /** 2.2: the only version a receiver may accept, in the high nibble of ver_cmd. */
    static final int V2_VERSION = 0x2;
    /** 2.2: the u16 len field bounds what follows the fixed part. */
    static final int V2_MAX_LENGTH_FIELD = 0xFFFF;
    /** 2.2: the largest possible v2 header. */
    static final int V2_MAX_HEADER_SIZE = V2_FIXED_LENGTH + V2_MAX_LENGTH_FIELD;
    /** 2.2: AF_UNIX paths are exactly 108 bytes each. */
    static final int UNIX_PATH_LENGTH = 108;

    /** 2.2: type u8 and length u16 precede every TLV value. */
    static final int TLV_HEADER_LENGTH = 3;
    /** 2.2: a TLV value length is a u16. */
    static final int TLV_MAX_VALUE_LENGTH = 0xFFFF;

    // 2.2: registered TLV types.
    static final int PP2_TYPE_ALPN = 0x01;
    static final int PP2_TYPE_AUTHORITY = 0x02;
    static final int PP2_TYPE_CRC32C = 0x03;
    static final int PP2_TYPE_NOOP = 0x04;
    static final int PP2_TYPE_UNIQUE_ID = 0x05;
    static final int PP2_TYPE_SSL = 0x20;
    static final int PP2_SUBTYPE_SSL_VERSION = 0x21;
    static final int PP2_SUBTYPE_SSL_CN = 0x22;
    static final int PP2_SUBTYPE_SSL_CIPHER = 0x23;
    static final int PP2_SUBTYPE_SSL_SIG_ALG = 0x24;
    static final int PP2_SUBTYPE_SSL_KEY_ALG = 0x25;
    static final int PP2_SUBTYPE_SSL_GROUP = 0x26;
    static final int PP2_SUBTYPE_SSL_SIG_SCHEME = 0x27;
    static final int PP2_SUBTYPE_SSL_CLIENT_CERT = 0x28;
    static final int PP2_TYPE_NETNS = 0x30;
    /** 2.2.8: application-specific types. */
    static final int PP2_TYPE_MIN_CUSTOM = 0xE0;
    static final int PP2_TYPE_MAX_CUSTOM = 0xEF;

    /** 2.2.3: the CRC32C value is a 32-bit number. */
    static final int CRC32C_LENGTH = 4;
    /** 2.2.5: a UNIQUE_ID is "up to 128 bytes". */
    static final int UNIQUE_ID_MAX_LENGTH = 128;
    /** 2.2.6: {@code struct pp2_tlv_ssl} starts with u8 client and u32 verify. */
    static final int SSL_FIXED_LENGTH = 5;

    // 2.2.6: bits of the SSL TLV's client field.
    static final int PP2_CLIENT_SSL = 0x01;
    static final int PP2_CLIENT_CERT_CONN = 0x02;
    static final int PP2_CLIENT_CERT_SESS = 0x04;

    private ProxyConstants() {
    }
}
