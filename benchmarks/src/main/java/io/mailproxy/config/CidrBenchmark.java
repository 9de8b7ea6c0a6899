package io.mailproxy.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link Cidr#contains}: the trusted-network check every {@code accept-proxy} connection makes
 * ({@link AcceptProxySettings#trusts} walks the list in order), for IPv4, IPv6 and an IPv4-mapped
 * peer (what a dual-stack listener reports), and a miss against a list of eight networks.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar CidrBenchmark}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class CidrBenchmark {

    private final Cidr v4 = Cidr.parse("10.0.0.0/8");
    private final Cidr v6 = Cidr.parse("2001:db8::/32");
    private final InetAddress v4Peer = address("10.1.2.3");
    private final InetAddress v6Peer = address("2001:db8::1:2");
    private final InetAddress mappedPeer = mapped(10, 1, 2, 3);
    private final InetAddress outsider = address("198.51.100.9");
    private final AcceptProxySettings eight = new AcceptProxySettings(List.of(
            Cidr.parse("10.0.0.0/8"), Cidr.parse("172.16.0.0/12"), Cidr.parse("192.168.0.0/16"), Cidr.parse("127.0.0.0/8"),
            Cidr.parse("100.64.0.0/10"), Cidr.parse("2001:db8::/32"), Cidr.parse("fd00::/8"), Cidr.parse("::1/128")),
            java.time.Duration.ofSeconds(3), 4096, false);

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(literal, e);
        }
    }

    /** An Inet6Address holding ::ffff:a.b.c.d (InetAddress.getByName would return the Inet4Address). */
    private static InetAddress mapped(int a, int b, int c, int d) {
        byte[] bytes = new byte[16];
        bytes[10] = (byte) 0xFF;
        bytes[11] = (byte) 0xFF;
        bytes[12] = (byte) a;
        bytes[13] = (byte) b;
        bytes[14] = (byte) c;
        bytes[15] = (byte) d;
        try {
            return java.net.Inet6Address.getByAddress(null, bytes, -1);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    @Benchmark
    public boolean containsV4() {
        return v4.contains(v4Peer);
    }

    @Benchmark
    public boolean containsV6() {
        return v6.contains(v6Peer);
    }

    @Benchmark
    public boolean containsMappedV4() {
        return v4.contains(mappedPeer);
    }

    /** The worst case of the trust check: a peer in none of eight networks. */
    @Benchmark
    public boolean trustsMissOfEight() {
        return eight.trusts(outsider);
    }
}
