package io.mailproxy.peersprotocol;

/**
 * Bytes HAProxy 2.6.12 (Debian 12's package) sent to a peer named {@code mp1}, captured on loopback
 * from {@code haproxy -L hap} with:
 *
 * <pre>
 * peers mp
 *   peer hap 127.0.0.1:20001
 *   peer mp1 127.0.0.1:20002
 *   table t2 type ipv6 size 1k expire 30m
 * backend users
 *   stick-table type ipv6 size 200k expire 30m peers mp
 *   stick on src
 *   server dc1 127.0.0.1:20020
 *   server dc2 127.0.0.1:20021
 * </pre>
 *
 * Clients from 127.0.0.5, .6 and .7 went to dc1, dc2 and dc1.
 */
final class HaproxyCapture {

    private HaproxyCapture() {
    }

    /** The hello of peer {@code hap} (pid 30606) to {@code mp1}. */
    static final String HELLO = "HAProxyS 2.1\nmp1\nhap 30606 1\n";

    /** On connecting, HAProxy asked for a resync (it had just started), then sent a heartbeat. */
    static final String RESYNC_REQUEST_AND_HEARTBEAT = "0000 0004";

    /** The three clients' entries as pushed when they were stored (one push each). */
    static final String PUSHED = """
            0a 82 11              # stick-table class, DEFINE, 17 bytes
              02                  #   table id 2
              05 7573657273       #   name "users"
              05                  #   key type 5: IPv6
              10                  #   key length 16
              f1f1fe00            #   data types 0x80001: server_id (bit 0), server_key (bit 19)
              f0e5ed05            #   expire 1800000 ms
            0a 80 1b              # UPDATE, 27 bytes
              00000001            #   update id 1
              00000000000000000000ffff7f000005   # ::ffff:127.0.0.5
              01                  #   server_id 1
              05 01 03 646331     #   server_key: 5 bytes: cache id 1 (+1), 3 bytes "dc1"
            0a 80 1b 00000002 00000000000000000000ffff7f000006 02 05 02 03 646332   # dc2, cache id 2
            0a 80 17              # UPDATE, 23 bytes
              00000003 00000000000000000000ffff7f000007
              01                  #   server_id 1
              01 01               #   server_key: 1 byte: cache id 1, "dc1" as sent before
            """;

    /** HAProxy's answer to a resync request: every table, every entry with its remaining life, then FINISHED. */
    static final String TAUGHT = """
            0a 82 0c 01 03 2f7432 05 10 00 f0e5ed05  # DEFINE id 1 "/t2" (a peers-section table), IPv6, no data
            0a 82 11 02 05 7573657273 05 10 f1f1fe00 f0e5ed05
            0a 85 1b              # UPDATE_TIMED, 27 bytes
              00000001            #   update id 1
              001b688a            #   expire 1796234 ms
              00000000000000000000ffff7f000005 01 01 01
            0a 86 17              # INCUPDATE_TIMED: update id 2 implied
              001b6a04 00000000000000000000ffff7f000006 02 01 02
            0a 86 17 001b6b86 00000000000000000000ffff7f000007 01 01 01
            0001                  # RESYNCFINISHED
            """;

    /** HAProxy's acknowledgement of update 5 of the table its peer announced as id 1. */
    static final String ACK = "0a 84 05 01 00000005";
}
