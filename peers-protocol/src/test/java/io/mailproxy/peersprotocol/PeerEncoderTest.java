package io.mailproxy.peersprotocol;

import io.mailproxy.testing.Hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Byte for byte what HAProxy 2.6.12 sends for the same messages ({@link HaproxyCapture}). */
class PeerEncoderTest {

    private static final byte[] KEY5 = Hex.bytes("00000000000000000000ffff7f000005");
    private static final byte[] KEY6 = Hex.bytes("00000000000000000000ffff7f000006");
    private static final byte[] KEY7 = Hex.bytes("00000000000000000000ffff7f000007");
    private static final PeerMessage.TableDefinition USERS = PeerMessage.TableDefinition.ipv6Servers(2, "users", 1_800_000);

    @Test
    void helloAsHaproxyWritesIt() {
        ByteBuf out = Unpooled.buffer();
        PeerEncoder.hello(out, PeerMessage.Hello.of("mp1", "hap", 30606));
        assertEquals(HaproxyCapture.HELLO, out.toString(StandardCharsets.US_ASCII));
        out.release();
    }

    @Test
    void statusAndControls() {
        ByteBuf out = Unpooled.buffer();
        PeerEncoder.status(out, StatusCode.UNKNOWN_PEER);
        assertEquals("504\n", out.readCharSequence(4, StandardCharsets.US_ASCII).toString());
        PeerEncoder.control(out, PeerMessage.Control.RESYNC_REQUEST);
        PeerEncoder.control(out, PeerMessage.Control.HEARTBEAT);
        PeerEncoder.error(out, PeerMessage.Error.SIZE_LIMIT);
        assertEquals(Hex.hex(HaproxyCapture.RESYNC_REQUEST_AND_HEARTBEAT + " 0101"), Hex.drain(out));
    }

    @Test
    void pushedUpdatesAsHaproxyWritesThem() {
        ServerKeyCache keys = new ServerKeyCache();
        ByteBuf out = Unpooled.buffer();
        PeerEncoder.definition(out, USERS);
        PeerEncoder.update(out, USERS, 1, true, null, KEY5, 1, "dc1", keys);
        PeerEncoder.update(out, USERS, 2, true, null, KEY6, 2, "dc2", keys);
        PeerEncoder.update(out, USERS, 3, true, null, KEY7, 1, "dc1", keys);
        assertEquals(Hex.hex(HaproxyCapture.PUSHED), Hex.drain(out));
    }

    @Test
    void taughtUpdatesAsHaproxyWritesThem() {
        ServerKeyCache keys = new ServerKeyCache();
        ByteBuf pushed = Unpooled.buffer();
        PeerEncoder.update(pushed, USERS, 1, true, null, KEY5, 1, "dc1", keys);
        PeerEncoder.update(pushed, USERS, 2, true, null, KEY6, 2, "dc2", keys);
        pushed.release();
        ByteBuf out = Unpooled.buffer();
        PeerEncoder.definition(out, new PeerMessage.TableDefinition(1, "/t2", 5, 16, 0, 1_800_000L, Map.of()));
        PeerEncoder.definition(out, USERS);
        PeerEncoder.update(out, USERS, 1, true, 1_796_234, KEY5, 1, "dc1", keys);
        PeerEncoder.update(out, USERS, 2, false, 1_796_612, KEY6, 2, "dc2", keys);
        PeerEncoder.update(out, USERS, 3, false, 1_796_998, KEY7, 1, "dc1", keys);
        PeerEncoder.control(out, PeerMessage.Control.RESYNC_FINISHED);
        assertEquals(Hex.hex(HaproxyCapture.TAUGHT), Hex.drain(out));
    }

    @Test
    void ackAsHaproxyWritesIt() {
        ByteBuf out = Unpooled.buffer();
        PeerEncoder.ack(out, 1, 5);
        assertEquals(Hex.hex(HaproxyCapture.ACK), Hex.drain(out));
    }

    /** The cache reuses its 128 ids round robin: the 129th name takes id 1 from the first. */
    @Test
    void theServerKeyCacheWrapsAfter128Names() {
        ServerKeyCache keys = new ServerKeyCache();
        for (int i = 0; i < 128; i++) {
            assertEquals(i, keys.add("s" + i));
        }
        assertEquals(0, keys.add("s128"));
        assertEquals(-1, keys.idOf("s0"));
        assertEquals(0, keys.idOf("s128"));
        assertEquals(1, keys.idOf("s1"));
    }

    @Test
    void everyMessageDecodesToItself() {
        ServerKeyCache keys = new ServerKeyCache();
        ByteBuf out = Unpooled.buffer();
        PeerEncoder.status(out, StatusCode.SUCCESS);
        PeerEncoder.definition(out, USERS);
        PeerEncoder.tableSwitch(out, 2);
        PeerEncoder.update(out, USERS, 0xFFFF_FFFFL, true, 5, KEY5, 7, "a-longer-server-name", keys);
        PeerEncoder.update(out, USERS, 0, false, null, KEY6, 7, "a-longer-server-name", keys);
        PeerEncoder.ack(out, 9, 0xFFFF_FFFEL);
        PeerEncoder.control(out, PeerMessage.Control.RESYNC_PARTIAL);
        byte[] bytes = new byte[out.readableBytes()];
        out.readBytes(bytes);
        out.release();
        assertEquals(List.of(new PeerMessage.Status(200), USERS, new PeerMessage.TableSwitch(2),
                new PeerMessage.Update(2, 0xFFFF_FFFFL, true, 5, KEY5, 7, "a-longer-server-name"),
                // The id after 2^32 - 1 wraps to 0, as HAProxy's unsigned 32-bit counter does.
                new PeerMessage.Update(2, 0, false, null, KEY6, 7, "a-longer-server-name"),
                new PeerMessage.Ack(9, 0xFFFF_FFFEL), new PeerMessage.Control(2)),
                PeerDecoderTest.decode(PeerDecoder.Side.CONNECTING, bytes));
    }

    @Test
    void updatesAreWrittenOnlyForServerTables() {
        PeerMessage.TableDefinition rates = new PeerMessage.TableDefinition(1, "t", 5, 16, 1L << 5, 1000L,
                Map.of(5, List.of(1000L)));
        ByteBuf out = Unpooled.buffer();
        assertThrows(IllegalArgumentException.class,
                () -> PeerEncoder.update(out, rates, 1, true, null, KEY5, 1, "dc1", new ServerKeyCache()));
        out.release();
    }
}
