package io.mailproxy.peersprotocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Coverage-guided fuzzing of {@link PeerDecoder}, the bytes a peer sends. Under a plain
 * {@code mvn test} Jazzer only replays the seeds in {@code PeerDecoderFuzzTestInputs/decode/}
 * (HAProxy 2.6.12's own bytes among them); with {@code JAZZER_FUZZ=1} (the {@code fuzz} Maven
 * profile) it fuzzes for {@code maxDuration}.
 *
 * <p>The first byte picks the side (even: accepting, a hello follows; odd: connecting, a status
 * follows). Per input it checks: nothing but {@link PeerProtocolException} escapes, and an error
 * after the handshake has no status to answer with; every buffer written is released; one read and
 * small reads decode the same messages and the same error; each message re-encodes to bytes that
 * decode to the same message.
 */
class PeerDecoderFuzzTest {

    private static final int SPLIT = 7;

    @FuzzTest(maxDuration = "60s")
    void decode(byte[] input) {
        if (input.length == 0) {
            return;
        }
        PeerDecoder.Side side = (input[0] & 1) == 0 ? PeerDecoder.Side.ACCEPTING : PeerDecoder.Side.CONNECTING;
        byte[] bytes = Arrays.copyOfRange(input, 1, input.length);
        Outcome whole = run(side, bytes, false);
        Outcome split = run(side, bytes, true);
        assertEquals(whole, split, "one read and split reads disagree");
        for (Object m : whole.messages) {
            roundTrip((PeerMessage) m);
        }
    }

    private record Outcome(List<Object> messages, PeerProtocolError error) {
    }

    private static Outcome run(PeerDecoder.Side side, byte[] input, boolean split) {
        EmbeddedChannel ch = new EmbeddedChannel(new PeerDecoder(side));
        List<ByteBuf> written = new ArrayList<>();
        List<Object> messages = new ArrayList<>();
        PeerProtocolError error = null;
        boolean handshakeDone = false;
        int pos = 0;
        while (pos < input.length) {
            int n = split ? Math.min(SPLIT, input.length - pos) : input.length;
            ByteBuf chunk = Unpooled.buffer(n).writeBytes(input, pos, n);
            written.add(chunk);
            pos += n;
            try {
                ch.writeInbound(chunk);
            } catch (PeerProtocolException e) {
                assertEquals(null, error, "a second error after " + error);
                error = e.error();
                if (handshakeDone) {
                    assertEquals(0, error.status(), "an error after the handshake has no status: " + e.getMessage());
                }
            }
            for (Object m; (m = ch.readInbound()) != null; ) {
                handshakeDone |= m instanceof PeerMessage.Hello || m instanceof PeerMessage.Status;
                messages.add(m);
            }
        }
        ch.finishAndReleaseAll();
        for (ByteBuf chunk : written) {
            assertEquals(0, chunk.refCnt(), "a written buffer was not released");
        }
        return new Outcome(messages, error);
    }

    /** Encodes {@code m} alone (an update after a definition of its own) and decodes it back. */
    private static void roundTrip(PeerMessage m) {
        ByteBuf out = Unpooled.buffer();
        PeerDecoder.Side side = m instanceof PeerMessage.Hello ? PeerDecoder.Side.ACCEPTING : PeerDecoder.Side.CONNECTING;
        PeerMessage expected = m;
        if (m instanceof PeerMessage.Hello h) {
            if (h.to().contains("\n") || h.from().contains(" ") || h.from().contains("\n") || h.pids().contains("\n")
                    || h.to().endsWith("\r") || h.pids().endsWith("\r")) {
                out.release();
                return;
            }
            PeerEncoder.hello(out, h);
        } else if (m instanceof PeerMessage.Status) {
            out.release();
            return;
        } else if (m instanceof PeerMessage.Control c) {
            status(out);
            PeerEncoder.control(out, c.type());
        } else if (m instanceof PeerMessage.Error e) {
            status(out);
            PeerEncoder.error(out, e.type());
        } else if (m instanceof PeerMessage.TableDefinition d) {
            status(out);
            PeerEncoder.definition(out, d);
        } else if (m instanceof PeerMessage.TableSwitch s) {
            status(out);
            PeerEncoder.tableSwitch(out, s.tableId());
        } else if (m instanceof PeerMessage.Ack a) {
            status(out);
            PeerEncoder.ack(out, a.tableId(), a.updateId());
        } else {
            PeerMessage.Update u = (PeerMessage.Update) m;
            byte[] key = u.key();
            if (u.serverKey() == null || u.serverId() == null) {
                out.release();
                return;
            }
            PeerMessage.TableDefinition d = new PeerMessage.TableDefinition(u.tableId(), "t", 7, key.length,
                    (1L << PeerMessage.TableDefinition.DATA_SERVER_ID) | (1L << PeerMessage.TableDefinition.DATA_SERVER_KEY),
                    1000L, Map.of());
            status(out);
            PeerEncoder.definition(out, d);
            PeerEncoder.update(out, d, u.updateId(), true, u.expire(), key, u.serverId(), u.serverKey(), new ServerKeyCache());
            expected = new PeerMessage.Update(u.tableId(), u.updateId(), true, u.expire(), key, u.serverId(), u.serverKey());
        }
        byte[] bytes = new byte[out.readableBytes()];
        out.readBytes(bytes);
        out.release();
        List<Object> again = PeerDecoderTest.decode(side, bytes);
        assertTrue(again.contains(expected), m + " re-encoded decodes to " + again);
    }

    private static void status(ByteBuf out) {
        PeerEncoder.status(out, StatusCode.SUCCESS);
    }
}
