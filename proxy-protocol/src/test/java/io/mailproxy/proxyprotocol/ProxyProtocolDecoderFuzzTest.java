package io.mailproxy.proxyprotocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Coverage-guided fuzzing of {@link ProxyProtocolDecoder}. Under a plain {@code mvn test} Jazzer only
 * replays the seeds in {@code ProxyProtocolDecoderFuzzTestInputs/decode/} (and any stored findings);
 * with {@code JAZZER_FUZZ=1} (the {@code fuzz} Maven profile) it fuzzes for {@code maxDuration}.
 *
 * <p>Per input it checks: nothing but {@link ProxyProtocolException} escapes; every buffer written is
 * released (refCnt 0, no reliance on GC); one read and one-byte-per-read give the same outcome; a
 * decoded header re-encodes and decodes to itself; an unfinished header ends as PRX_TRUNCATED or
 * PRX_EMPTY on close. Termination follows from each call returning.
 */
class ProxyProtocolDecoderFuzzTest {

    /** Beyond this many bytes the split run switches from 1-byte to 61-byte reads to keep executions fast. */
    private static final int BYTEWISE_PREFIX = 300;

    @FuzzTest(maxDuration = "60s")
    void decode(byte[] input) {
        Outcome whole = run(input, false);
        Outcome split = run(input, true);
        assertEquals(whole, split, "one read and split reads disagree");
        if (whole.header != null) {
            roundTrip(whole.header);
        }
    }

    /** What the decoder made of an input: a header and what followed it, or an error code. */
    private record Outcome(ProxyHeader header, String rest, ProxyProtocolError error) {
    }

    private static Outcome run(byte[] input, boolean split) {
        EmbeddedChannel ch = new EmbeddedChannel(new ProxyProtocolDecoder());
        List<ByteBuf> written = new ArrayList<>();
        ProxyProtocolError error = null;
        try {
            int pos = 0;
            while (pos < input.length && ch.isOpen()) {
                int n = !split ? input.length : pos < BYTEWISE_PREFIX ? 1 : Math.min(61, input.length - pos);
                ByteBuf chunk = Unpooled.buffer(n).writeBytes(input, pos, n);
                written.add(chunk);
                pos += n;
                ch.writeInbound(chunk);
            }
        } catch (ProxyProtocolException e) {
            error = e.error();
            assertFalse(ch.isOpen(), "a failure closes the channel");
        }
        ProxyHeader header = null;
        StringBuilder rest = new StringBuilder();
        for (Object msg; (msg = ch.readInbound()) != null; ) {
            if (msg instanceof ProxyHeader h) {
                assertEquals(null, header, "a second header");
                assertEquals(0, rest.length(), "bytes before the header");
                header = h;
            } else {
                ByteBuf buf = (ByteBuf) msg;
                rest.append(ByteBufUtil.hexDump(buf));
                buf.release();
            }
        }
        if (error == null && header == null) {
            try {
                ch.finishAndReleaseAll();
            } catch (ProxyProtocolException e) {
                error = e.error();
                assertTrue(error == ProxyProtocolError.PRX_TRUNCATED || error == ProxyProtocolError.PRX_EMPTY,
                        e.getMessage());
            }
            assertNotNull(error, "an unfinished header must fail on close");
        }
        assertFalse(ch.finishAndReleaseAll());
        for (ByteBuf chunk : written) {
            assertEquals(0, chunk.refCnt(), "a written buffer was not released");
        }
        return new Outcome(header, rest.toString(), error);
    }

    private static void roundTrip(ProxyHeader header) {
        ByteBuf encoded = header.version() == ProxyVersion.V1
                ? ProxyHeaderEncoder.encodeV1(header, ByteBufAllocator.DEFAULT)
                : ProxyHeaderEncoder.encodeV2(header, ByteBufAllocator.DEFAULT, false);
        ProxyHeader again;
        try {
            again = ProxyProtocolDecoder.decode(encoded, ProxyProtocolDecoder.MAX_MAX_HEADER_SIZE);
            assertFalse(encoded.isReadable(), "the re-encoded header was not consumed whole");
        } finally {
            encoded.release();
        }
        List<Tlv> withoutCrc = new ArrayList<>();
        for (Tlv tlv : header.tlvs()) {
            if (!(tlv instanceof Tlv.Crc32c)) {
                withoutCrc.add(tlv);
            }
        }
        assertEquals(header.withTlvs(withoutCrc), Objects.requireNonNull(again));
    }
}
