package io.mailproxy.frontend;

/**
 * Names of the client pipeline's handlers, in pipeline order:
 * <ol>
 *   <li>{@link #TLS}: the SNI handler, which becomes the {@code SslHandler} (implicit TLS only);</li>
 *   <li>{@link #IDLE}: closes a session silent in both directions for the idle timeout;</li>
 *   <li>{@link #START}: waits for TLS, connects the server, then replaces itself with {@link #RELAY};</li>
 *   <li>{@link #RELAY}: copies bytes to the server.</li>
 * </ol>
 */
public final class PipelineNames {
    public static final String TLS = "tls";
    public static final String IDLE = "idle";
    public static final String START = "start";
    public static final String RELAY = "relay";

    private PipelineNames() {
    }
}
