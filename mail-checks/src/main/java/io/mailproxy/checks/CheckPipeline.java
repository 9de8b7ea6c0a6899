package io.mailproxy.checks;

/**
 * Names of the handlers in a check connection's pipeline, in order from the socket:
 * <ol>
 *   <li>{@link #PROXY_HEADER}: sends the header when the connection is up, before TLS; removes itself</li>
 *   <li>{@link #TLS}: implicit TLS, when the check uses it</li>
 *   <li>{@link #LINES}: splits replies into lines, at most {@link MailCheck#MAX_LINE_LENGTH} bytes</li>
 *   <li>{@link #CHECK}: the conversation and the result</li>
 * </ol>
 */
final class CheckPipeline {
    static final String PROXY_HEADER = "proxy-header";
    static final String TLS = "tls";
    static final String LINES = "lines";
    static final String CHECK = "check";

    private CheckPipeline() {
    }
}
