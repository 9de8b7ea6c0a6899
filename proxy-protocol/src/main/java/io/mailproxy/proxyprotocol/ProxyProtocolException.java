package io.mailproxy.proxyprotocol;

import io.netty.handler.codec.DecoderException;
import java.util.Objects;

/**
 * A PROXY header was refused. Carries the named {@link ProxyProtocolError} and a detail that states
 * the offending value and the expectation, e.g. {@code header length (70000) exceeds the allowed
 * maximum (1500)}.
 */
public class ProxyProtocolException extends DecoderException {

    private static final long serialVersionUID = 1L;

    private final ProxyProtocolError error;
    private final String detail;

    public ProxyProtocolException(ProxyProtocolError error, String detail) {
        super(Objects.requireNonNull(error, "error").code() + " " + error.description() + ": " + detail);
        this.error = error;
        this.detail = detail;
    }

    /** The named reason. */
    public ProxyProtocolError error() {
        return error;
    }

    /** The offending value and the expectation, without the code and sentence. */
    public String detail() {
        return detail;
    }
}
