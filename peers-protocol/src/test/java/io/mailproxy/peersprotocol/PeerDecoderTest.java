package io.mailproxy.peersprotocol;

import io.mailproxy.testing.Hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class PeerDecoderTest {

    private static final byte[] KEY5 = Hex.bytes("00000000000000000000ffff7f000005");
    private static final byte[] KEY6 = Hex.bytes("00000000000000000000ffff7f000006");
    private static final byte[] KEY7 = Hex.bytes("00000000000000000000ffff7f000007");

    private static final PeerMessage.TableDefinition USERS =
            new PeerMessage.TableDefinition(2, "users", 5, 16, 0x80001, 1_800_000L, Map.of());

    @Test
    void decodesHaproxysHelloAndItsFirstMessages() {
        List<Object> got = decode(PeerDecoder.Side.ACCEPTING,
                ascii(HaproxyCapture.HELLO), Hex.bytes(HaproxyCapture.RESYNC_REQUEST_AND_HEARTBEAT));
        assertEquals(List.of(new PeerMessage.Hello(2, 1, "mp1", "hap", "30606 1"),
                new PeerMessage.Control(PeerMessage.Control.RESYNC_REQUEST),
                new PeerMessage.Control(PeerMessage.Control.HEARTBEAT)), got);
    }

    @Test
    void decodesHaproxysPushedUpdatesWithItsDictionary() {
        List<Object> got = decode(PeerDecoder.Side.CONNECTING, ascii("200\n"), Hex.bytes(HaproxyCapture.PUSHED));
        assertEquals(List.of(new PeerMessage.Status(200), USERS,
                new PeerMessage.Update(2, 1, true, null, KEY5, 1, "dc1"),
                new PeerMessage.Update(2, 2, true, null, KEY6, 2, "dc2"),
                // The third names dc1 by its cache id alone.
                new PeerMessage.Update(2, 3, true, null, KEY7, 1, "dc1")), got);
    }

    @Test
    void decodesHaproxysTeachingWithExpiryAndImpliedIds() {
        List<Object> got = decode(PeerDecoder.Side.CONNECTING, ascii("200\n"),
                Hex.bytes(HaproxyCapture.PUSHED), Hex.bytes(HaproxyCapture.TAUGHT));
        List<Object> taught = got.subList(5, got.size());
        assertEquals(List.of(
                new PeerMessage.TableDefinition(1, "/t2", 5, 16, 0, 1_800_000L, Map.of()),
                USERS,
                new PeerMessage.Update(2, 1, true, 1_796_234, KEY5, 1, "dc1"),
                new PeerMessage.Update(2, 2, false, 1_796_612, KEY6, 2, "dc2"),
                new PeerMessage.Update(2, 3, false, 1_796_998, KEY7, 1, "dc1"),
                new PeerMessage.Control(PeerMessage.Control.RESYNC_FINISHED)), taught);
    }

    @Test
    void decodesHaproxysAck() {
        assertEquals(List.of(new PeerMessage.Status(200), new PeerMessage.Ack(1, 5)),
                decode(PeerDecoder.Side.CONNECTING, ascii("200\n"), Hex.bytes(HaproxyCapture.ACK)));
    }

    /** Byte by byte gives what one read gives. */
    @Test
    void splitReadsDecodeTheSame() {
        byte[] all = concat(ascii("200\n"), Hex.bytes(HaproxyCapture.PUSHED), Hex.bytes(HaproxyCapture.TAUGHT),
                Hex.bytes(HaproxyCapture.ACK));
        List<byte[]> bytes = new ArrayList<>();
        for (byte b : all) {
            bytes.add(new byte[] {b});
        }
        assertEquals(decode(PeerDecoder.Side.CONNECTING, all),
                decode(PeerDecoder.Side.CONNECTING, bytes.toArray(byte[][]::new)));
    }

    @Test
    void aHelloWithCrlfLinesIsAccepted() {
        assertEquals(List.of(new PeerMessage.Hello(2, 0, "mp1", "old", "1 1")),
                decode(PeerDecoder.Side.ACCEPTING, ascii("HAProxyS 2.0\r\nmp1\r\nold 1 1\r\n")));
    }

    @Test
    void aStatusOtherThan200EndsDecoding() {
        assertEquals(List.of(new PeerMessage.Status(504)),
                decode(PeerDecoder.Side.CONNECTING, ascii("504\n"), Hex.bytes("0000")));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "HAProxyX 2.1\\n|PEER_BAD_HELLO",
            "HAProxyS 3.0\\n|PEER_BAD_VERSION",
            "HAProxyS 2.2\\n|PEER_BAD_VERSION",
            "HAProxyS 2\\n|PEER_BAD_VERSION",
            "HAProxyS 2.1x\\n|PEER_BAD_VERSION",
            "HAProxyS 2.1\\nmp1\\nnospace\\n|PEER_BAD_HELLO"})
    void aBadHelloIsNamedWithTheStatusToAnswer(String hello, PeerProtocolError error) {
        PeerProtocolException e = failure(PeerDecoder.Side.ACCEPTING, ascii(hello.replace("\\n", "\n")));
        assertEquals(error, e.error());
        assertEquals(error == PeerProtocolError.PEER_BAD_VERSION ? 502 : 501, error.status());
    }

    @Test
    void aLineWithoutEndIsCutAtTheLimit() {
        assertEquals(PeerProtocolError.PEER_LINE_TOO_LONG,
                failure(PeerDecoder.Side.ACCEPTING, ascii("HAProxyS 2.1\n" + "x".repeat(2000))).error());
        // Negative control: the same line shorter waits for its LF.
        assertEquals(List.of(), decode(PeerDecoder.Side.ACCEPTING, ascii("HAProxyS 2.1\n" + "x".repeat(1000))));
    }

    @Test
    void aStatusThatIsNoNumberIsAnError() {
        assertEquals(PeerProtocolError.PEER_BAD_STATUS, failure(PeerDecoder.Side.CONNECTING, ascii("OK\n")).error());
    }

    @Test
    void aMessageLongerThanTheLimitIsRefusedBeforeItArrives() {
        // Class 10, UPDATE, length 16385 (f0 8f 7f... as intencode writes it), and no body at all.
        ByteBuf header = Unpooled.buffer();
        header.writeBytes(Hex.bytes("0a80"));
        VarInt.write(header, 16385);
        byte[] bytes = new byte[header.readableBytes()];
        header.readBytes(bytes);
        header.release();
        PeerProtocolException e = failure(PeerDecoder.Side.CONNECTING, ascii("200\n"), bytes);
        assertEquals(PeerProtocolError.PEER_MSG_TOO_LONG, e.error());
        assertTrue(e.error().sizeLimit());
    }

    @Test
    void aLengthOfMoreThanFiveBytesIsAnError() {
        assertEquals(PeerProtocolError.PEER_BAD_VARINT,
                failure(PeerDecoder.Side.CONNECTING, ascii("200\n"), Hex.bytes("0a80 ff ff ff ff ff ff")).error());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "0a 82 02 01 00",                               // a name of length 0
            "0a 82 07 01 05 7573657273",                    // a name that ends the message
            "0a 82 08 01 05 7573657273 05",                 // no key length
            "0a 84 02 01 00",                               // an ack whose update id is cut
            "0a 82 11 02 05 7573657273 05 10 f1f1fe00 f0e5ed05 0a 80 0a 00000001 000000000000", // a key cut short
            "0a 82 11 02 05 7573657273 05 10 f1f1fe00 f0e5ed05 0a 80 17 00000001 00000000000000000000ffff7f000005 01 09 01",
            "0a 82 11 02 05 7573657273 05 10 f1f1fe00 f0e5ed05 0a 80 17 00000001 00000000000000000000ffff7f000005 01 01 00",
            "0a 82 11 02 05 7573657273 05 10 f1f1fe00 f0e5ed05 0a 80 17 00000001 00000000000000000000ffff7f000005 01 01 f0",
            "ff 00",                                        // the reserved class
            "ff 80 00"
    })
    void malformedMessagesAreNamedErrors(String hex) {
        PeerProtocolException e = failure(PeerDecoder.Side.CONNECTING, ascii("200\n"), Hex.bytes(hex));
        assertTrue(e.error().status() == 0, e.getMessage());
    }

    @Test
    void aDictionaryIdBeyondTheCacheIsAnError() {
        PeerProtocolException e = failure(PeerDecoder.Side.CONNECTING, ascii("200\n"), Hex.bytes(
                "0a 82 11 02 05 7573657273 05 10 f1f1fe00 f0e5ed05 0a 80 17 00000001 00000000000000000000ffff7f000005 01 01 f0"));
        assertEquals(PeerProtocolError.PEER_BAD_VARINT, e.error());
        e = failure(PeerDecoder.Side.CONNECTING, ascii("200\n"), Hex.bytes(
                "0a 82 11 02 05 7573657273 05 10 f1f1fe00 f0e5ed05 0a 80 17 00000001 00000000000000000000ffff7f000005 01 01 81"));
        assertEquals(PeerProtocolError.PEER_BAD_DICTIONARY, e.error());
    }

    @Test
    void afterAnErrorNothingMoreIsDecoded() {
        EmbeddedChannel ch = new EmbeddedChannel(new PeerDecoder(PeerDecoder.Side.CONNECTING));
        ch.writeInbound(Unpooled.wrappedBuffer(ascii("200\n")));
        assertThrows(PeerProtocolException.class, () -> ch.writeInbound(Unpooled.wrappedBuffer(Hex.bytes("ff00"))));
        ch.writeInbound(Unpooled.wrappedBuffer(Hex.bytes("0004")));
        assertInstanceOf(PeerMessage.Status.class, ch.readInbound());
        assertNull(ch.readInbound());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void updatesBeforeAnyTableAreSkipped() {
        assertEquals(List.of(new PeerMessage.Status(200), new PeerMessage.Control(4)), decode(PeerDecoder.Side.CONNECTING,
                ascii("200\n"), Hex.bytes("0a 80 17 00000003 00000000000000000000ffff7f000007 01 01 01 0004")));
    }

    /**
     * A table with more data types than mailproxy's (HAProxy's {@code conn_rate(10s)} and
     * {@code gpc(2)}, which have parameters) is read past its values to the server's.
     */
    @Test
    void otherDataTypesAreReadPast() {
        long types = 1L | 1L << 5 | 1L << 19 | 1L << 23;
        PeerMessage.TableDefinition t = new PeerMessage.TableDefinition(3, "t", 5, 16, types, 60_000L,
                Map.of(5, List.of(10_000L), 23, List.of(2L)));
        ByteBuf wire = Unpooled.buffer();
        PeerEncoder.definition(wire, t);
        ByteBuf body = Unpooled.buffer();
        body.writeInt(7).writeBytes(KEY5);
        VarInt.write(body, 2);                                   // server_id
        VarInt.write(body, 1500);                                // conn_rate: age of the period
        VarInt.write(body, 3);                                   //   current count
        VarInt.write(body, 250);                                 //   previous count
        body.writeBytes(Hex.bytes("05 01 03 646332"));           // server_key "dc2"
        VarInt.write(body, 4000);                                // gpc[0]
        VarInt.write(body, 1);                                   // gpc[1]
        wire.writeByte(10).writeByte(0x80);
        VarInt.write(wire, body.readableBytes());
        wire.writeBytes(body);
        body.release();
        byte[] bytes = new byte[wire.readableBytes()];
        wire.readBytes(bytes);
        wire.release();
        assertEquals(List.of(new PeerMessage.Status(200), t, new PeerMessage.Update(3, 7, true, null, KEY5, 2, "dc2")),
                decode(PeerDecoder.Side.CONNECTING, ascii("200\n"), bytes));
    }

    /** A data type HAProxy 2.6 does not know makes the table's updates unreadable: they are skipped. */
    @Test
    void updatesOfATableWithAnUnknownDataTypeAreSkipped() {
        PeerMessage.TableDefinition t = new PeerMessage.TableDefinition(3, "t", 5, 16, 1L | 1L << 40, 60_000L, Map.of());
        ByteBuf wire = Unpooled.buffer();
        PeerEncoder.definition(wire, t);
        wire.writeBytes(Hex.bytes("0a 80 16 00000001 00000000000000000000ffff7f000005 01 07 0004"));
        byte[] bytes = new byte[wire.readableBytes()];
        wire.readBytes(bytes);
        wire.release();
        assertEquals(List.of(new PeerMessage.Status(200), t, new PeerMessage.Control(4)),
                decode(PeerDecoder.Side.CONNECTING, ascii("200\n"), bytes));
    }

    private static PeerProtocolException failure(PeerDecoder.Side side, byte[]... chunks) {
        return assertThrows(PeerProtocolException.class, () -> decode(side, chunks));
    }

    /** Writes each chunk as one read; returns what came out, releasing everything. */
    static List<Object> decode(PeerDecoder.Side side, byte[]... chunks) {
        EmbeddedChannel ch = new EmbeddedChannel(new PeerDecoder(side));
        try {
            for (byte[] chunk : chunks) {
                ch.writeInbound(Unpooled.wrappedBuffer(chunk));
            }
            List<Object> out = new ArrayList<>();
            for (Object m; (m = ch.readInbound()) != null; ) {
                out.add(m);
            }
            return out;
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] all = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }
}
