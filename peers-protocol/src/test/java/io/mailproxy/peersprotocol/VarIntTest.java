package io.mailproxy.peersprotocol;

import io.mailproxy.testing.Hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The encoded integers, at the boundaries of HAProxy's {@code doc/peers-v2.0.txt} section I. The
 * expected bytes are what HAProxy 2.6's own {@code intencode} (compiled from {@code src/peers.c})
 * printed for each value.
 */
class VarIntTest {

    @ParameterizedTest
    @CsvSource({
            "0, 00",
            "239, ef",                       // the largest 1-byte value
            "240, f000",                     // PEER_ENC_2BYTES_MIN
            "241, f100",
            "2287, ff7f",                    // the largest 2-byte value
            "2288, f080 00",                 // PEER_ENC_3BYTES_MIN
            "264431, ffff 7f",
            "264432, f08080 00",             // 4 bytes
            "1800000, f0e5ed05",             // 30m in ms: HAProxy 2.6.12's definition of `expire 30m`
            "524289, f1f1fe00",              // bits 0 and 19: server_id and server_key
            "33818864, f0808080 00",         // 5 bytes
            "4294967295, ff f0 fe fe 7e",    // 2^32 - 1
            "-1, ff f0 fe fe fe fe fe fe fe 0e" // 2^64 - 1: ten bytes
    })
    void encodesAsHaproxyDoes(long value, String hex) {
        ByteBuf out = Unpooled.buffer();
        VarInt.write(out, value);
        assertEquals(Hex.hex(hex), Hex.drain(out.copy()));
        assertEquals(VarInt.length(value), out.readableBytes());
        assertEquals(value, VarInt.read(out, "value"));
        assertEquals(0, out.readableBytes());
        out.release();
    }

    @ParameterizedTest
    @CsvSource({"f0", "f080", "ff f0 fe fe"})
    void aValueCutShortIsAnError(String hex) {
        ByteBuf in = Hex.buf(hex);
        PeerProtocolException e = assertThrows(PeerProtocolException.class, () -> VarInt.read(in, "length"));
        assertEquals(PeerProtocolError.PEER_BAD_VARINT, e.error());
        assertEquals(0, in.readerIndex(), "nothing consumed");
        in.release();
    }

    @ParameterizedTest
    @CsvSource({
            "ff ff ff ff ff ff ff ff ff ff 00", // eleven bytes
            "ff f0 fe fe fe fe fe fe fe 1e"     // ten bytes, one bit past 64
    })
    void beyondSixtyFourBitsIsAnError(String hex) {
        ByteBuf in = Hex.buf(hex);
        PeerProtocolException e = assertThrows(PeerProtocolException.class, () -> VarInt.read(in, "value"));
        assertEquals(PeerProtocolError.PEER_BAD_VARINT, e.error());
        in.release();
    }
}
