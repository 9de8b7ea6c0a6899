package io.mailproxy.proxyprotocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;

/** Drives a {@link ProxyProtocolDecoder} in an {@link EmbeddedChannel}; each test makes its own channel. */
final class Channels {

    private Channels() {
    }

    static EmbeddedChannel decoder() {
        return new EmbeddedChannel(new ProxyProtocolDecoder());
    }

    static EmbeddedChannel decoder(int maxHeaderSize) {
        return new EmbeddedChannel(new ProxyProtocolDecoder(maxHeaderSize));
    }

    /** Decodes a complete header written at once, checks nothing follows it, and closes the channel cleanly. */
    static ProxyHeader decodeWhole(byte[] bytes) {
        EmbeddedChannel ch = decoder();
        ch.writeInbound(Unpooled.wrappedBuffer(bytes));
        ProxyHeader header = ch.readInbound();
        assertNull(ch.readInbound(), "nothing follows the header");
        assertNull(ch.pipeline().get(ProxyProtocolDecoder.class), "the decoder removed itself");
        assertFalse(ch.finishAndReleaseAll());
        return header;
    }

    /** Writes one byte per read; returns the header, which must appear only with the last byte. */
    static ProxyHeader decodeBytewise(EmbeddedChannel ch, byte[] bytes) {
        for (int i = 0; i < bytes.length; i++) {
            ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {bytes[i]}));
            if (i < bytes.length - 1) {
                assertNull(ch.readInbound(), "header fired early, at byte " + i);
            }
        }
        return ch.readInbound();
    }

    /** Writes {@code bytes} at once and expects the given error; the channel must then be closed. */
    static ProxyProtocolException assertFails(EmbeddedChannel ch, byte[] bytes, ProxyProtocolError error) {
        ProxyProtocolException e = assertThrows(ProxyProtocolException.class,
                () -> ch.writeInbound(Unpooled.wrappedBuffer(bytes)));
        assertEquals(error, e.error(), e.getMessage());
        assertFalse(ch.isOpen(), "the decoder closes the channel on failure");
        assertNull(ch.readInbound(), "nothing is passed on after a failure");
        return e;
    }

    /**
     * Writes one byte per read and returns the index of the byte that made the decoder fail, proving
     * it rejects as soon as the input is provably invalid rather than waiting for more.
     */
    static int failingByte(EmbeddedChannel ch, byte[] bytes, ProxyProtocolError error) {
        for (int i = 0; i < bytes.length; i++) {
            ByteBuf one = Unpooled.wrappedBuffer(new byte[] {bytes[i]});
            try {
                ch.writeInbound(one);
            } catch (ProxyProtocolException e) {
                assertEquals(error, e.error(), e.getMessage());
                assertFalse(ch.isOpen());
                return i;
            }
        }
        return fail("no failure after " + bytes.length + " bytes");
    }
}
