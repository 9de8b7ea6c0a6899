package io.mailproxy.proxyprotocol;

/** Byte-exact v2 vectors shared by the encoder, decoder and round-trip tests. Comments name every field. */
final class Vectors {

    private Vectors() {
    }

    static final String SIG = "0d0a0d0a 000d0a51 5549540a";

    /** v2 LOCAL, as HAProxy sends with health checks. */
    static final String V2_LOCAL = SIG + """
            20          # version 2, command LOCAL
            00          # family UNSPEC, transport UNSPEC
            0000        # length 0
            """;

    /** v2 PROXY TCP4 192.168.0.1:56324 -> 192.168.0.11:443. */
    static final String V2_TCP4 = SIG + """
            21          # version 2, command PROXY
            11          # INET, STREAM
            000c        # length 12
            c0a80001    # source 192.168.0.1
            c0a8000b    # destination 192.168.0.11
            dc04        # source port 56324
            01bb        # destination port 443
            """;

    /** v2 PROXY UDP4, same addresses as {@link #V2_TCP4}. */
    static final String V2_UDP4 = SIG + """
            21          # version 2, command PROXY
            12          # INET, DGRAM
            000c        # length 12
            c0a80001    # source 192.168.0.1
            c0a8000b    # destination 192.168.0.11
            dc04        # source port 56324
            01bb        # destination port 443
            """;

    /** v2 PROXY TCP6 [2001:db8::1]:12345 -> [2001:db8::2]:143. */
    static final String V2_TCP6 = SIG + """
            21                                  # version 2, command PROXY
            21                                  # INET6, STREAM
            0024                                # length 36
            20010db8 00000000 00000000 00000001 # source 2001:db8::1
            20010db8 00000000 00000000 00000002 # destination 2001:db8::2
            3039                                # source port 12345
            008f                                # destination port 143
            """;

    /** v2 PROXY UDP6 [2001:db8::1]:12345 -> [2001:db8::2]:143. */
    static final String V2_UDP6 = SIG + """
            21                                  # version 2, command PROXY
            22                                  # INET6, DGRAM
            0024                                # length 36
            20010db8 00000000 00000000 00000001 # source 2001:db8::1
            20010db8 00000000 00000000 00000002 # destination 2001:db8::2
            3039                                # source port 12345
            008f                                # destination port 143
            """;

    /** v2 PROXY TCP6 [::ffff:192.168.0.1]:56324 -> [2001:db8::2]:143: IPv4 mapped into IPv6. */
    static final String V2_TCP6_MAPPED = SIG + """
            21                                  # version 2, command PROXY
            21                                  # INET6, STREAM
            0024                                # length 36
            00000000 00000000 0000ffff c0a80001 # source ::ffff:192.168.0.1
            20010db8 00000000 00000000 00000002 # destination 2001:db8::2
            dc04                                # source port 56324
            008f                                # destination port 143
            """;

    /** 108-byte UNIX path fields, NUL padded. */
    private static final String SRC_PATH = "2f766172 2f72756e 2f737263 2e736f63 6b   # /var/run/src.sock (17 bytes)\n"
            + "00".repeat(91) + " # 91 NULs of padding\n";
    private static final String DST_PATH = "2f766172 2f72756e 2f647374 2e736f63 6b   # /var/run/dst.sock (17 bytes)\n"
            + "00".repeat(91) + " # 91 NULs of padding\n";

    /** v2 PROXY UNIX stream /var/run/src.sock -> /var/run/dst.sock. */
    static final String V2_UNIX_STREAM = SIG + """
            21          # version 2, command PROXY
            31          # UNIX, STREAM
            00d8        # length 216
            """ + SRC_PATH + DST_PATH;

    /** v2 PROXY UNIX datagram /var/run/src.sock -> /var/run/dst.sock. */
    static final String V2_UNIX_DGRAM = SIG + """
            21          # version 2, command PROXY
            32          # UNIX, DGRAM
            00d8        # length 216
            """ + SRC_PATH + DST_PATH;

    /** v2 PROXY UNSPEC: the sender could not express the addresses. */
    static final String V2_UNSPEC = SIG + """
            21          # version 2, command PROXY
            00          # UNSPEC, UNSPEC
            0000        # length 0
            """;

    /** v2 TCP4 with one TLV of every registered type but CRC32C, plus a custom one. */
    static final String V2_TCP4_ALL_TLVS = SIG + """
            21          # version 2, command PROXY
            11          # INET, STREAM
            00c2        # length 194 = 12 + 7 + 19 + 6 + 7 + 108 + 7 + 5 + 23
            c0a80001    # source 192.168.0.1
            c0a8000b    # destination 192.168.0.11
            dc04        # source port 56324
            01bb        # destination port 443
            01 0004 696d6170                    # ALPN "imap"
            02 0010 6d61696c 2e657861 6d706c65 2e636f6d # AUTHORITY "mail.example.com"
            04 0003 000000                      # NOOP, 3 bytes of padding
            05 0004 deadbeef                    # UNIQUE_ID deadbeef
            20 0069                             # SSL, length 105
               07                               #   client: SSL | CERT_CONN | CERT_SESS
               00000000                         #   verify 0: certificate presented and verified
               21 0007 544c5376 312e33          #   VERSION "TLSv1.3"
               22 0002 636e                     #   CN "cn"
               23 0016 544c535f 4145535f 3132385f 47434d5f 53484132 3536 # CIPHER "TLS_AES_128_GCM_SHA256"
               24 000a 5253412d 53484132 3536   #   SIG_ALG "RSA-SHA256"
               25 0007 52534132 303438          #   KEY_ALG "RSA2048"
               26 0006 58323535 3139            #   GROUP "X25519"
               27 0013 7273615f 7073735f 72736165 5f736861 323536 # SIG_SCHEME "rsa_pss_rsae_sha256"
               28 0003 308201                   #   CLIENT_CERT, 3 bytes of DER
            30 0004 626c7565                    # NETNS "blue"
            e0 0002 cafe                        # custom 0xE0
            f0 0014 00112233 44556677 8899aabb ccddeeff 00112233 # experimental 0xF0, 20 bytes, kept opaque
            """;

    /** v2 LOCAL with a CRC32C TLV (value computed independently, bitwise CRC-32C in Python). */
    static final String V2_LOCAL_CRC = SIG + """
            20          # version 2, command LOCAL
            00          # UNSPEC, UNSPEC
            0007        # length 7
            03 0004 a9b87e8f # CRC32C 0xa9b87e8f over the header with this field zeroed
            """;

    /** v2 TCP4 ({@link #V2_TCP4}'s addresses) with a CRC32C TLV. */
    static final String V2_TCP4_CRC = SIG + """
            21          # version 2, command PROXY
            11          # INET, STREAM
            0013        # length 19 = 12 + 7
            c0a80001    # source 192.168.0.1
            c0a8000b    # destination 192.168.0.11
            dc04        # source port 56324
            01bb        # destination port 443
            03 0004 1c1ae9c6 # CRC32C 0x1c1ae9c6 over the header with this field zeroed
            """;
}
