package io.mailproxy.session;

/**
 * Names of the client pipeline's handlers, in pipeline order. A frontend with accept-proxy starts
 * with the first three only and adds the others once the PROXY header is in:
 * <ol>
 *   <li>{@link #PROXY_TRUST}: closes a peer outside the trusted networks, then removes itself;</li>
 *   <li>{@link #PROXY_DECODER}: decodes the one PROXY header, then removes itself;</li>
 *   <li>{@link #PROXY_ACCEPT}: reports the header (or why there is none) to the session and adds the handlers below;</li>
 *   <li>{@link #TLS_GUARD}: refuses TLS renegotiation (TLS frontends; after STARTTLS once it is sent);</li>
 *   <li>{@link #TLS}: reads the ClientHello, then becomes the {@code SslHandler} of the chosen
 *       certificate (implicit TLS; after STARTTLS once it is sent);</li>
 *   <li>{@link #PRE_TLS}: STARTTLS frontends: the plaintext dialogue until STARTTLS, which puts
 *       {@link #TLS_GUARD} and {@link #TLS} in front of it and removes it;</li>
 *   <li>{@link #IDLE}: the idle and send-stall timer, added when the relay starts;</li>
 *   <li>{@link #START}: reports the handshake, finds a server, then replaces itself with {@link #RELAY};</li>
 *   <li>{@link #RELAY}: copies bytes to the server.</li>
 * </ol>
 */
public final class PipelineNames {
    public static final String PROXY_TRUST = "proxy-trust";
    public static final String PROXY_DECODER = "proxy-decoder";
    public static final String PROXY_ACCEPT = "proxy-accept";
    public static final String TLS_GUARD = "tls-guard";
    public static final String TLS = "tls";
    public static final String PRE_TLS = "pre-tls";
    public static final String IDLE = "idle";
    public static final String START = "start";
    public static final String RELAY = "relay";
    /** On a server channel of a STARTTLS session: takes the server's greeting out, then leaves. */
    public static final String GREETING_FILTER = "greeting-filter";

    private PipelineNames() {
    }
}
