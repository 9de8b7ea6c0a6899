package io.mailproxy.tls;

import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.internal.tcnative.SSL;
import javax.net.ssl.SSLEngine;

/**
 * Whether a finished TLS handshake resumed a session (HAProxy's {@code ssl_reused_sess}).
 *
 * <p>The JDK's engine has no such question: a resumed session is the cached one, made at its first
 * handshake, so it is older than the connection. BoringSSL keeps session times in whole seconds, so
 * there the same test would call every handshake of the accept's second resumed; its own answer
 * ({@code SSL_session_reused}, through netty-tcnative) is asked instead.
 */
public final class TlsResumption {

    private TlsResumption() {
    }

    /** Whether {@code engine}'s finished handshake resumed a session; call on the channel's event loop. */
    public static boolean resumed(SSLEngine engine, long acceptedAtMillis) {
        if (engine instanceof ReferenceCountedOpenSslEngine openSsl) {
            long ssl = openSsl.sslPointer();
            return ssl != 0 && SSL.isSessionReused(ssl);
        }
        return engine.getSession().getCreationTime() < acceptedAtMillis;
    }
}
