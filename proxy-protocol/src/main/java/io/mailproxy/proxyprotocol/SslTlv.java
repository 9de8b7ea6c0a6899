package io.mailproxy.proxyprotocol;

import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_CLIENT_CERT_CONN;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_CLIENT_CERT_SESS;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_CLIENT_SSL;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_SUBTYPE_SSL_CIPHER;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_SUBTYPE_SSL_CLIENT_CERT;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_SUBTYPE_SSL_CN;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_SUBTYPE_SSL_GROUP;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_SUBTYPE_SSL_KEY_ALG;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_SUBTYPE_SSL_SIG_ALG;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_SUBTYPE_SSL_SIG_SCHEME;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_SUBTYPE_SSL_VERSION;
import static io.mailproxy.proxyprotocol.ProxyConstants.PP2_TYPE_SSL;
import static io.mailproxy.proxyprotocol.ProxyConstants.SSL_FIXED_LENGTH;
import static io.mailproxy.proxyprotocol.ProxyConstants.TLV_HEADER_LENGTH;
import static io.mailproxy.proxyprotocol.ProxyConstants.TLV_MAX_VALUE_LENGTH;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * PP2_TYPE_SSL (0x20), spec 2.2.6: {@code u8 client}, {@code u32 verify}, then sub-TLVs.
 *
 * <p>Absent sub-TLVs read as {@link Optional#empty()}. When a decoded TLV repeats a sub-type the
 * accessors return the first; {@link #subTlvs()} keeps them all, in wire order, unknown sub-types
 * included. Built with {@link #builder()}, which emits sub-TLVs in ascending sub-type order
 * (VERSION first, as HAProxy does).
 *
 * @param client the client bit field (PP2_CLIENT_SSL 0x01, CERT_CONN 0x02, CERT_SESS 0x04; other
 *               bits kept as received)
 * @param verify the u32 verify result: 0 only if a client certificate was presented and verified
 * @param subTlvs the second-level TLVs in wire order
 */
public record SslTlv(int client, long verify, List<SubTlv> subTlvs) implements Tlv {

    public SslTlv {
        if (client < 0 || client > 0xFF) {
            throw new IllegalArgumentException("SSL client field (" + client + ") is outside 0..255");
        }
        if (verify < 0 || verify > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("SSL verify (" + verify + ") is outside the u32 range");
        }
        subTlvs = List.copyOf(subTlvs);
        long length = SSL_FIXED_LENGTH;
        for (SubTlv sub : subTlvs) {
            length += TLV_HEADER_LENGTH + sub.value.length;
        }
        if (length > TLV_MAX_VALUE_LENGTH) {
            throw new IllegalArgumentException(
                    "SSL TLV length (" + length + ") exceeds the allowed maximum (" + TLV_MAX_VALUE_LENGTH + ")");
        }
    }

    /** A new builder: no flags, verify 0, no sub-TLVs. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public int type() {
        return PP2_TYPE_SSL;
    }

    @Override
    public byte[] value() {
        byte[] out = new byte[valueLength()];
        out[0] = (byte) client;
        out[1] = (byte) (verify >>> 24);
        out[2] = (byte) (verify >>> 16);
        out[3] = (byte) (verify >>> 8);
        out[4] = (byte) verify;
        int pos = SSL_FIXED_LENGTH;
        for (SubTlv sub : subTlvs) {
            out[pos] = (byte) sub.type;
            out[pos + 1] = (byte) (sub.value.length >>> 8);
            out[pos + 2] = (byte) sub.value.length;
            System.arraycopy(sub.value, 0, out, pos + TLV_HEADER_LENGTH, sub.value.length);
            pos += TLV_HEADER_LENGTH + sub.value.length;
        }
        return out;
    }

    @Override
    public int valueLength() {
        int length = SSL_FIXED_LENGTH;
        for (SubTlv sub : subTlvs) {
            length += TLV_HEADER_LENGTH + sub.value.length;
        }
        return length;
    }

    /** PP2_CLIENT_SSL: the client connected over TLS. */
    public boolean clientSsl() {
        return (client & PP2_CLIENT_SSL) != 0;
    }

    /** PP2_CLIENT_CERT_CONN: the client presented a certificate on this connection. */
    public boolean clientCertConn() {
        return (client & PP2_CLIENT_CERT_CONN) != 0;
    }

    /** PP2_CLIENT_CERT_SESS: the client presented a certificate at least once in this TLS session. */
    public boolean clientCertSess() {
        return (client & PP2_CLIENT_CERT_SESS) != 0;
    }

    /** PP2_SUBTYPE_SSL_VERSION (0x21), e.g. {@code TLSv1.3}. */
    public Optional<String> version() {
        return text(PP2_SUBTYPE_SSL_VERSION);
    }

    /** PP2_SUBTYPE_SSL_CN (0x22): the client certificate's subject CN, UTF-8. */
    public Optional<String> commonName() {
        return text(PP2_SUBTYPE_SSL_CN);
    }

    /** PP2_SUBTYPE_SSL_CIPHER (0x23), e.g. {@code TLS_AES_128_GCM_SHA256}. */
    public Optional<String> cipher() {
        return text(PP2_SUBTYPE_SSL_CIPHER);
    }

    /** PP2_SUBTYPE_SSL_SIG_ALG (0x24): the frontend certificate's signature algorithm, e.g. {@code RSA-SHA256}. */
    public Optional<String> signatureAlgorithm() {
        return text(PP2_SUBTYPE_SSL_SIG_ALG);
    }

    /** PP2_SUBTYPE_SSL_KEY_ALG (0x25): the frontend certificate's key algorithm, e.g. {@code RSA2048}. */
    public Optional<String> keyAlgorithm() {
        return text(PP2_SUBTYPE_SSL_KEY_ALG);
    }

    /** PP2_SUBTYPE_SSL_GROUP (0x26): the key exchange group, e.g. {@code X25519}. */
    public Optional<String> group() {
        return text(PP2_SUBTYPE_SSL_GROUP);
    }

    /** PP2_SUBTYPE_SSL_SIG_SCHEME (0x27): the TLS signature scheme, e.g. {@code rsa_pss_rsae_sha256}. */
    public Optional<String> signatureScheme() {
        return text(PP2_SUBTYPE_SSL_SIG_SCHEME);
    }

    /** PP2_SUBTYPE_SSL_CLIENT_CERT (0x28): the client certificate, raw DER (a fresh copy). */
    public Optional<byte[]> clientCert() {
        return subTlv(PP2_SUBTYPE_SSL_CLIENT_CERT).map(SubTlv::value);
    }

    /** The first sub-TLV of that sub-type. */
    public Optional<SubTlv> subTlv(int type) {
        for (SubTlv sub : subTlvs) {
            if (sub.type == type) {
                return Optional.of(sub);
            }
        }
        return Optional.empty();
    }

    private Optional<String> text(int type) {
        return subTlv(type).map(SubTlv::text);
    }

    /**
     * A second-level TLV of the SSL TLV (spec 2.2.6): sub-types 0x21..0x28 are named by
     * {@link SslTlv}'s accessors; any other sub-type is kept as is.
     *
     * @param type the sub-type, 0..255
     * @param value the value bytes (copied in and out)
     */
    public record SubTlv(int type, byte[] value) {
        public SubTlv {
            if (type < 0 || type > 0xFF) {
                throw new IllegalArgumentException("SSL sub-TLV type (" + type + ") is outside 0..255");
            }
            value = Values.checkedCopy(value, TLV_MAX_VALUE_LENGTH, "SSL sub-TLV");
        }

        @Override
        public byte[] value() {
            return value.clone();
        }

        /** The value as UTF-8 text. */
        public String text() {
            return new String(value, StandardCharsets.UTF_8);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof SubTlv other && type == other.type && Arrays.equals(value, other.value);
        }

        @Override
        public int hashCode() {
            return 31 * type + Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            boolean isText = type >= PP2_SUBTYPE_SSL_VERSION && type < PP2_SUBTYPE_SSL_CLIENT_CERT;
            return String.format("0x%02X=%s", type, isText ? Values.text(value) : Values.hex(value));
        }
    }

    /** Builds an {@link SslTlv}; setting a sub-type twice keeps the last value. */
    public static final class Builder {
        private int client;
        private long verify;
        private final Map<Integer, byte[]> subTlvs = new TreeMap<>();

        private Builder() {
        }

        /** PP2_CLIENT_SSL: the client connected over TLS. */
        public Builder clientSsl(boolean set) {
            return flag(PP2_CLIENT_SSL, set);
        }

        /** PP2_CLIENT_CERT_CONN: a client certificate was presented on this connection. */
        public Builder clientCertConn(boolean set) {
            return flag(PP2_CLIENT_CERT_CONN, set);
        }

        /** PP2_CLIENT_CERT_SESS: a client certificate was presented in this TLS session. */
        public Builder clientCertSess(boolean set) {
            return flag(PP2_CLIENT_CERT_SESS, set);
        }

        /** The u32 verify result: 0 only if a client certificate was presented AND verified. */
        public Builder verify(long verify) {
            this.verify = verify;
            return this;
        }

        public Builder version(String version) {
            return text(PP2_SUBTYPE_SSL_VERSION, version);
        }

        public Builder commonName(String commonName) {
            return text(PP2_SUBTYPE_SSL_CN, commonName);
        }

        public Builder cipher(String cipher) {
            return text(PP2_SUBTYPE_SSL_CIPHER, cipher);
        }

        public Builder signatureAlgorithm(String signatureAlgorithm) {
            return text(PP2_SUBTYPE_SSL_SIG_ALG, signatureAlgorithm);
        }

        public Builder keyAlgorithm(String keyAlgorithm) {
            return text(PP2_SUBTYPE_SSL_KEY_ALG, keyAlgorithm);
        }

        public Builder group(String group) {
            return text(PP2_SUBTYPE_SSL_GROUP, group);
        }

        public Builder signatureScheme(String signatureScheme) {
            return text(PP2_SUBTYPE_SSL_SIG_SCHEME, signatureScheme);
        }

        /** The client certificate as raw DER. */
        public Builder clientCert(byte[] der) {
            return subTlv(PP2_SUBTYPE_SSL_CLIENT_CERT, der);
        }

        /** Any sub-TLV, e.g. one newer than this module. */
        public Builder subTlv(int type, byte[] value) {
            SubTlv checked = new SubTlv(type, value);
            subTlvs.put(checked.type(), checked.value);
            return this;
        }

        public SslTlv build() {
            List<SubTlv> list = new ArrayList<>(subTlvs.size());
            subTlvs.forEach((type, value) -> list.add(new SubTlv(type, value)));
            return new SslTlv(client, verify, list);
        }

        private Builder text(int type, String value) {
            return subTlv(type, value.getBytes(StandardCharsets.UTF_8));
        }

        private Builder flag(int bit, boolean set) {
            client = set ? client | bit : client & ~bit;
            return this;
        }
    }
}
