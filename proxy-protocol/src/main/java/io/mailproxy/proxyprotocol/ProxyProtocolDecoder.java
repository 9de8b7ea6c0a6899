package io.mailproxy.proxyprotocol;

import static io.mailproxy.proxyprotocol.ProxyConstants.UNIX_PATH_LENGTH;
import static io.mailproxy.proxyprotocol.ProxyConstants.V1_PREFIX;
import static io.mailproxy.proxyprotocol.ProxyConstants.V2_FIXED_LENGTH;
import static io.mailproxy.proxyprotocol.ProxyConstants.V2_MAX_HEADER_SIZE;
import static io.mailproxy.proxyprotocol.ProxyConstants.V2_SIGNATURE;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Decodes exactly one PROXY header, v1 or v2, at the start of a connection.
 *
 * <p>It never guesses (spec 2.2): the first byte must begin {@code "PROXY "} or the v2 signature,
 * and every later byte is checked as it arrives, so invalid input fails as soon as it is provably
 * invalid, even when it comes one byte at a time. On success it fires the {@link ProxyHeader}, then
 * removes itself; bytes that followed the header are passed on as one {@link ByteBuf}, after the
 * header. On failure it discards what it holds, closes the channel and fires a
 * {@link ProxyProtocolException} through {@code exceptionCaught}. If the channel closes (or its input
 * shuts down) before a complete header, it fires {@link ProxyProtocolError#PRX_TRUNCATED}, or
 * {@link ProxyProtocolError#PRX_EMPTY} when nothing arrived at all.
 *
 * <p>The header timeout is not enforced here: put an idle/read timeout handler in front (spec 1:
 * at least 3 s) and report it as {@link ProxyProtocolError#PRX_TIMEOUT}.
 */
public class ProxyProtocolDecoder extends ByteToMessageDecoder {

    /**
     * The default maximum header size: a UNIX block (232 bytes) plus room for every TLV HAProxy
     * sends except a client certificate. Raise it when certificates are forwarded (up to 65551).
     */
    public static final int DEFAULT_MAX_HEADER_SIZE = 4096;
    /** The smallest maximum accepted: any v2 address block must fit (16 + 216 for UNIX, spec 2.2). */
    public static final int MIN_MAX_HEADER_SIZE = V2_FIXED_LENGTH + 2 * UNIX_PATH_LENGTH;
    /** The largest maximum that means anything: 16 + the u16 length field (spec 2.2). */
    public static final int MAX_MAX_HEADER_SIZE = V2_MAX_HEADER_SIZE;

    private final int maxHeaderSize;
    private boolean failed;

    /** With {@link #DEFAULT_MAX_HEADER_SIZE}. */
    public ProxyProtocolDecoder() {
        this(DEFAULT_MAX_HEADER_SIZE);
    }

    /**
     * @param maxHeaderSize the largest v2 header accepted, all 16 fixed bytes included, in
     *        [{@value #MIN_MAX_HEADER_SIZE}..{@value #MAX_MAX_HEADER_SIZE}]. A v1 line is always
     *        limited to 107 bytes (spec 2.1).
     */
    public ProxyProtocolDecoder(int maxHeaderSize) {
        if (maxHeaderSize < MIN_MAX_HEADER_SIZE || maxHeaderSize > MAX_MAX_HEADER_SIZE) {
            throw new IllegalArgumentException("maxHeaderSize (" + maxHeaderSize + ") is outside ["
                    + MIN_MAX_HEADER_SIZE + ".." + MAX_MAX_HEADER_SIZE + "]");
        }
        this.maxHeaderSize = maxHeaderSize;
        setSingleDecode(true);
    }

    /** The largest v2 header this decoder accepts. */
    public int maxHeaderSize() {
        return maxHeaderSize;
    }

    /**
     * Decodes one header from the start of {@code in} without a pipeline.
     *
     * @return the header, its bytes consumed; or {@code null}, nothing consumed, if {@code in} holds
     *         only a valid beginning of one
     * @throws ProxyProtocolException as soon as the bytes prove the header invalid
     */
    public static ProxyHeader decode(ByteBuf in, int maxHeaderSize) {
        if (!in.isReadable()) {
            return null;
        }
        byte first = in.getByte(in.readerIndex());
        if (first == V1_PREFIX[0]) {
            return V1Parser.parse(in);
        }
        if (first == V2_SIGNATURE[0]) {
            return V2Parser.parse(in, maxHeaderSize);
        }
        throw new ProxyProtocolException(ProxyProtocolError.PRX_NOT_HDR, String.format(
                "first byte (0x%02X) starts neither a v1 line (\"PROXY \") nor a v2 signature (0x0D)", first & 0xFF));
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        ProxyHeader header;
        try {
            header = decode(in, maxHeaderSize);
        } catch (ProxyProtocolException e) {
            throw fail(ctx, in, e);
        }
        if (header != null) {
            out.add(header);
            // ByteToMessageDecoder fires `out` before handing the rest of the cumulation on.
            ctx.pipeline().remove(this);
        }
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        boolean any = in.isReadable();
        decode(ctx, in, out);
        if (out.isEmpty() && !failed) {
            throw fail(ctx, in, any
                    ? new ProxyProtocolException(ProxyProtocolError.PRX_TRUNCATED,
                            "connection ended after " + in.readableBytes() + " byte(s) of an incomplete header")
                    : new ProxyProtocolException(ProxyProtocolError.PRX_EMPTY,
                            "connection ended before the first byte"));
        }
    }

    private ProxyProtocolException fail(ChannelHandlerContext ctx, ByteBuf in, ProxyProtocolException e) {
        failed = true;
        in.skipBytes(in.readableBytes());
        ctx.close();
        return e;
    }
}
