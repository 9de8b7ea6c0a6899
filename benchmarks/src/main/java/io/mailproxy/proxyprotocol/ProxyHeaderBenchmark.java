package io.mailproxy.proxyprotocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The PROXY header work of one session: what mailproxy does before relaying to Dovecot (build a v2
 * header with AUTHORITY and the SSL TLV, as {@code send-proxy = v2-ssl} does, and encode it) and
 * what a receiver does with {@code accept-proxy} (decode a v1 line or a v2 header with TLVs).
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar ProxyHeaderBenchmark}. Buffers come
 * from the pooled allocator the channels use and are released in the benchmark, as in the proxy.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ProxyHeaderBenchmark {

    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private final InetSocketAddress client = new InetSocketAddress("203.0.113.7", 51234);
    private final InetSocketAddress destination = new InetSocketAddress("192.0.2.10", 993);
    private ProxyHeader v2Ssl;
    private ByteBuf v1Bytes;
    private ByteBuf v2Bytes;

    @Setup
    public void setUp() {
        v2Ssl = build();
        v1Bytes = ProxyHeaderEncoder.encodeV1(ProxyHeader.proxy(client, destination), alloc);
        v2Bytes = ProxyHeaderEncoder.encodeV2(v2Ssl, alloc, false);
    }

    @TearDown
    public void tearDown() {
        v1Bytes.release();
        v2Bytes.release();
    }

    private ProxyHeader build() {
        return ProxyHeader.proxy(client, destination)
                .withTlv(Tlv.authority("imap.example.com"))
                .withTlv(SslTlv.builder().clientSsl(true).verify(1).version("TLSv1.3").cipher("TLS_AES_128_GCM_SHA256").build());
    }

    /** Per session in mailproxy: the header value built from the session, then encoded. */
    @Benchmark
    public int buildAndEncodeV2Ssl() {
        ByteBuf b = ProxyHeaderEncoder.encodeV2(build(), alloc, false);
        int n = b.readableBytes();
        b.release();
        return n;
    }

    @Benchmark
    public int encodeV2Ssl() {
        ByteBuf b = ProxyHeaderEncoder.encodeV2(v2Ssl, alloc, false);
        int n = b.readableBytes();
        b.release();
        return n;
    }

    @Benchmark
    public int encodeV2SslCrc32c() {
        ByteBuf b = ProxyHeaderEncoder.encodeV2(v2Ssl, alloc, true);
        int n = b.readableBytes();
        b.release();
        return n;
    }

    @Benchmark
    public int encodeV1() {
        ByteBuf b = ProxyHeaderEncoder.encodeV1(ProxyHeader.proxy(client, destination), alloc);
        int n = b.readableBytes();
        b.release();
        return n;
    }

    @Benchmark
    public ProxyHeader decodeV1() {
        return ProxyProtocolDecoder.decode(v1Bytes.duplicate(), ProxyProtocolDecoder.DEFAULT_MAX_HEADER_SIZE);
    }

    @Benchmark
    public ProxyHeader decodeV2Ssl() {
        return ProxyProtocolDecoder.decode(v2Bytes.duplicate(), ProxyProtocolDecoder.DEFAULT_MAX_HEADER_SIZE);
    }
}
