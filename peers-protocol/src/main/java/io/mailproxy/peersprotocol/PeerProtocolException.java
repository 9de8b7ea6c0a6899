package io.mailproxy.peersprotocol;

import io.netty.handler.codec.DecoderException;
import java.util.Objects;

/**
 * Bytes from a peer that the protocol does not allow. Carries the named {@link PeerProtocolError}
 * and a detail stating the offending value and the expectation, e.g. {@code message length (70000)
 * exceeds the maximum (16384)}.
 */
public class PeerProtocolException extends DecoderException {

    private static final long serialVersionUID = 1L;

    private final PeerProtocolError error;
    private final String detail;

    public PeerProtocolException(PeerProtocolError error, String detail) {
        super(Objects.requireNonNull(error, "error").code() + " " + error.description() + ": " + detail);
        this.error = error;
        this.detail = detail;
    }

    public PeerProtocolError error() {
        return error;
    }

    /** The offending value and the expectation, without the code and sentence. */
    public String detail() {
        return detail;
    }
}
