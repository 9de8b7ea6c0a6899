package io.mailproxy.proxyprotocol;

import static io.mailproxy.proxyprotocol.ProxyConstants.UNIX_PATH_LENGTH;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A decoded or to-be-sent PROXY header. Immutable.
 *
 * <p>What is set depends on {@link #family()}: INET/INET6 have {@link #sourceAddress()} and
 * {@link #destinationAddress()}; UNIX has {@link #sourceUnixPath()} and
 * {@link #destinationUnixPath()}; UNSPEC has neither (all four return {@code null}). A
 * {@link ProxyCommand#LOCAL} header is always UNSPEC: the spec (2.2) says the receiver must ignore
 * its family and addresses and use the socket's own.
 *
 * <p>In an INET6 header both addresses are {@link Inet6Address}es, IPv4-mapped ones included
 * ({@code ::ffff:a.b.c.d}), so a header re-encodes into the family it came from.
 *
 * <p>{@link #version()} is the version a header was decoded from; headers built here say
 * {@link ProxyVersion#V2}. It does not steer the encoder, whose methods pick the version.
 */
public final class ProxyHeader {

    private static final ProxyHeader LOCAL = new ProxyHeader(ProxyVersion.V2, ProxyCommand.LOCAL,
            AddressFamily.UNSPEC, TransportProtocol.UNSPEC, null, null, null, null, List.of());

    private final ProxyVersion version;
    private final ProxyCommand command;
    private final AddressFamily family;
    private final TransportProtocol transport;
    private final InetSocketAddress sourceAddress;
    private final InetSocketAddress destinationAddress;
    /** Raw bytes, not String: a path need not be UTF-8, and must re-encode as received. */
    private final byte[] sourceUnixPath;
    private final byte[] destinationUnixPath;
    private final List<Tlv> tlvs;

    ProxyHeader(ProxyVersion version, ProxyCommand command, AddressFamily family, TransportProtocol transport,
            InetSocketAddress sourceAddress, InetSocketAddress destinationAddress,
            byte[] sourceUnixPath, byte[] destinationUnixPath, List<Tlv> tlvs) {
        this.version = version;
        this.command = command;
        this.family = family;
        this.transport = transport;
        this.sourceAddress = sourceAddress;
        this.destinationAddress = destinationAddress;
        this.sourceUnixPath = sourceUnixPath;
        this.destinationUnixPath = destinationUnixPath;
        this.tlvs = List.copyOf(tlvs);
    }

    /** A v2 LOCAL header (what HAProxy sends with health checks): UNSPEC, no addresses, no TLVs. */
    public static ProxyHeader local() {
        return LOCAL;
    }

    /**
     * A PROXY header for a TCP connection. Both IPv4: INET; otherwise INET6, an IPv4 address
     * becoming IPv4-mapped ({@code ::ffff:a.b.c.d}) since the v2 block has one family for both.
     *
     * @throws IllegalArgumentException if an address is unresolved
     */
    public static ProxyHeader proxy(InetSocketAddress source, InetSocketAddress destination) {
        return proxy(source, destination, TransportProtocol.STREAM);
    }

    /**
     * A PROXY header for a TCP ({@link TransportProtocol#STREAM}) or UDP
     * ({@link TransportProtocol#DGRAM}) connection; see {@link #proxy(InetSocketAddress, InetSocketAddress)}.
     */
    public static ProxyHeader proxy(InetSocketAddress source, InetSocketAddress destination,
            TransportProtocol transport) {
        InetAddress src = resolved(source, "source").getAddress();
        InetAddress dst = resolved(destination, "destination").getAddress();
        if (transport == TransportProtocol.UNSPEC) {
            throw new IllegalArgumentException("an INET/INET6 header needs transport STREAM or DGRAM, not UNSPEC");
        }
        if (src instanceof Inet4Address && dst instanceof Inet4Address) {
            return new ProxyHeader(ProxyVersion.V2, ProxyCommand.PROXY, AddressFamily.INET, transport,
                    source, destination, null, null, List.of());
        }
        return new ProxyHeader(ProxyVersion.V2, ProxyCommand.PROXY, AddressFamily.INET6, transport,
                new InetSocketAddress(toInet6(src), source.getPort()),
                new InetSocketAddress(toInet6(dst), destination.getPort()), null, null, List.of());
    }

    /**
     * A PROXY header for a UNIX socket connection. Paths are at most 108 UTF-8 bytes and hold no NUL
     * (the wire pads them with NULs, spec 2.2).
     */
    public static ProxyHeader unix(String sourcePath, String destinationPath, TransportProtocol transport) {
        if (transport == TransportProtocol.UNSPEC) {
            throw new IllegalArgumentException("a UNIX header needs transport STREAM or DGRAM, not UNSPEC");
        }
        return new ProxyHeader(ProxyVersion.V2, ProxyCommand.PROXY, AddressFamily.UNIX, transport, null, null,
                checkPath(sourcePath, "source"), checkPath(destinationPath, "destination"), List.of());
    }

    /** A PROXY header with UNSPEC family: v1 {@code UNKNOWN}, v2 PROXY with family byte 0x00. */
    public static ProxyHeader unknown() {
        return new ProxyHeader(ProxyVersion.V2, ProxyCommand.PROXY, AddressFamily.UNSPEC, TransportProtocol.UNSPEC,
                null, null, null, null, List.of());
    }

    /** A copy with {@code tlv} appended. */
    public ProxyHeader withTlv(Tlv tlv) {
        Objects.requireNonNull(tlv, "tlv");
        List<Tlv> list = new ArrayList<>(tlvs.size() + 1);
        list.addAll(tlvs);
        list.add(tlv);
        return withTlvs(list);
    }

    /** A copy whose TLVs are exactly {@code tlvs}, in that order. */
    public ProxyHeader withTlvs(List<? extends Tlv> tlvs) {
        return new ProxyHeader(version, command, family, transport, sourceAddress, destinationAddress,
                sourceUnixPath, destinationUnixPath, List.copyOf(tlvs));
    }

    /** The version this header was decoded from; {@link ProxyVersion#V2} for headers built here. */
    public ProxyVersion version() {
        return version;
    }

    public ProxyCommand command() {
        return command;
    }

    /** Always {@link AddressFamily#UNSPEC} for LOCAL. */
    public AddressFamily family() {
        return family;
    }

    /** Always {@link TransportProtocol#UNSPEC} for LOCAL and UNSPEC. */
    public TransportProtocol transport() {
        return transport;
    }

    /** The client's address and port; {@code null} unless INET/INET6. */
    public InetSocketAddress sourceAddress() {
        return sourceAddress;
    }

    /** The address and port the client connected to; {@code null} unless INET/INET6. */
    public InetSocketAddress destinationAddress() {
        return destinationAddress;
    }

    /**
     * The client's socket path: the bytes up to the first NUL, as UTF-8 (an abstract-namespace
     * path, which starts with a NUL, reads as empty); {@code null} unless UNIX.
     */
    public String sourceUnixPath() {
        return sourceUnixPath == null ? null : new String(sourceUnixPath, StandardCharsets.UTF_8);
    }

    /** The socket path the client connected to, as {@link #sourceUnixPath()}; {@code null} unless UNIX. */
    public String destinationUnixPath() {
        return destinationUnixPath == null ? null : new String(destinationUnixPath, StandardCharsets.UTF_8);
    }

    /** The bytes of {@link #sourceUnixPath()} as received (a fresh copy); {@code null} unless UNIX. */
    public byte[] sourceUnixPathBytes() {
        return sourceUnixPath == null ? null : sourceUnixPath.clone();
    }

    /** The bytes of {@link #destinationUnixPath()} as received (a fresh copy); {@code null} unless UNIX. */
    public byte[] destinationUnixPathBytes() {
        return destinationUnixPath == null ? null : destinationUnixPath.clone();
    }

    /** All TLVs in wire order (empty for v1). */
    public List<Tlv> tlvs() {
        return tlvs;
    }

    /** The first TLV of that type. */
    public Optional<Tlv> tlv(int type) {
        for (Tlv tlv : tlvs) {
            if (tlv.type() == type) {
                return Optional.of(tlv);
            }
        }
        return Optional.empty();
    }

    /** The first ALPN TLV's protocol. */
    public Optional<String> alpn() {
        return first(Tlv.Alpn.class).map(Tlv.Alpn::protocol);
    }

    /** The first AUTHORITY TLV's host name. */
    public Optional<String> authority() {
        return first(Tlv.Authority.class).map(Tlv.Authority::hostName);
    }

    /** The first UNIQUE_ID TLV's bytes (a fresh copy). */
    public Optional<byte[]> uniqueId() {
        return first(Tlv.UniqueId.class).map(Tlv.UniqueId::value);
    }

    /** The first SSL TLV. */
    public Optional<SslTlv> ssl() {
        return first(SslTlv.class);
    }

    private <T extends Tlv> Optional<T> first(Class<T> kind) {
        for (Tlv tlv : tlvs) {
            if (kind.isInstance(tlv)) {
                return Optional.of(kind.cast(tlv));
            }
        }
        return Optional.empty();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ProxyHeader h && version == h.version && command == h.command && family == h.family
                && transport == h.transport && Objects.equals(sourceAddress, h.sourceAddress)
                && Objects.equals(destinationAddress, h.destinationAddress)
                && Arrays.equals(sourceUnixPath, h.sourceUnixPath)
                && Arrays.equals(destinationUnixPath, h.destinationUnixPath) && tlvs.equals(h.tlvs);
    }

    @Override
    public int hashCode() {
        return Objects.hash(version, command, family, transport, sourceAddress, destinationAddress,
                Arrays.hashCode(sourceUnixPath), Arrays.hashCode(destinationUnixPath), tlvs);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("ProxyHeader[").append(version).append(' ').append(command)
                .append(' ').append(family).append(' ').append(transport);
        if (sourceAddress != null) {
            sb.append(' ').append(sourceAddress).append(" -> ").append(destinationAddress);
        }
        if (sourceUnixPath != null) {
            sb.append(" \"").append(sourceUnixPath()).append("\" -> \"").append(destinationUnixPath()).append('"');
        }
        if (!tlvs.isEmpty()) {
            sb.append(' ').append(tlvs);
        }
        return sb.append(']').toString();
    }

    private static InetSocketAddress resolved(InetSocketAddress address, String what) {
        Objects.requireNonNull(address, what);
        if (address.isUnresolved()) {
            throw new IllegalArgumentException(what + " address (" + address + ") is unresolved");
        }
        return address;
    }

    /** IPv4 becomes IPv4-mapped IPv6; Inet6Address.getByAddress keeps it IPv6 where InetAddress would not. */
    static Inet6Address toInet6(InetAddress address) {
        if (address instanceof Inet6Address v6) {
            return v6;
        }
        byte[] v4 = address.getAddress();
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xFF;
        mapped[11] = (byte) 0xFF;
        System.arraycopy(v4, 0, mapped, 12, 4);
        return inet6(mapped);
    }

    static Inet6Address inet6(byte[] bytes) {
        try {
            return Inet6Address.getByAddress(null, bytes, -1);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("16 bytes are always a valid IPv6 address", e);
        }
    }

    private static byte[] checkPath(String path, String what) {
        Objects.requireNonNull(path, what);
        byte[] bytes = path.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > UNIX_PATH_LENGTH) {
            throw new IllegalArgumentException(what + " path length (" + bytes.length
                    + " bytes) exceeds the UNIX address size (" + UNIX_PATH_LENGTH + ")");
        }
        if (path.indexOf('\0') >= 0) {
            throw new IllegalArgumentException(what + " path contains a NUL, which ends it on the wire");
        }
        return bytes;
    }
}
