/**
 * Stick tables shared between mailproxy nodes, and with HAProxy, over HAProxy's peers protocol
 * (module {@code peers-protocol}): HAProxy's {@code peers} section.
 *
 * <p>{@link io.mailproxy.peers.Peers} is the running section: a listener, one connection per
 * other node ({@link io.mailproxy.peers.PeerSession}), the synced tables, and the resync a
 * starting node waits for before it accepts clients. Where each table stands with each peer is a
 * {@link io.mailproxy.peers.TableCursor}. The tables themselves ({@link io.mailproxy.stick.StickTable})
 * number their local updates and learn the peers' entries; this package only moves them.
 *
 * <p>Visibility: {@link io.mailproxy.peers.Peers#showPeers()} renders HAProxy's {@code show peers}
 * and {@link io.mailproxy.peers.Peers#figures()} gives each peer's counters, for the runtime API
 * and the statistics to call.
 */
package io.mailproxy.peers;
