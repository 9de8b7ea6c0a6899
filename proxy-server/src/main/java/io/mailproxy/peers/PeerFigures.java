package io.mailproxy.peers;

/**
 * One peer's figures, for statistics and metrics (a snapshot).
 *
 * @param name              the peer's name
 * @param connected         whether a connection with it is established
 * @param lastStatus        HAProxy's four letters for the last handshake status (ESTA, CONN, NAME...)
 * @param connections       connections made or accepted ({@code new_conn})
 * @param updatesSent       entries sent (updates and resyncs)
 * @param updatesAcknowledged updates the peer acknowledged
 * @param updatesReceived   entries received from it
 * @param updatesIgnored    received entries not applied (a server this node does not have, or expired)
 * @param secondsSinceLastUpdate since the last entry came from it, -1: none yet
 * @param resyncsTaught     times this node sent it the whole tables
 * @param resyncsLearned    times it sent this node the whole tables
 * @param protocolErrors    connections ended by a protocol error, either side's
 * @param heartbeatTimeouts connections ended because it fell silent
 */
public record PeerFigures(String name, boolean connected, String lastStatus, long connections, long updatesSent,
                          long updatesAcknowledged, long updatesReceived, long updatesIgnored,
                          long secondsSinceLastUpdate, long resyncsTaught, long resyncsLearned, long protocolErrors,
                          long heartbeatTimeouts) {
}
