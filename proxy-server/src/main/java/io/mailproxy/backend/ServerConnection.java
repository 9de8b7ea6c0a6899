package io.mailproxy.backend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;

/**
 * What a successful {@link Dispatch} hands its session: the connected channel (the PROXY header
 * already written, reading off), the slot it holds on the server, and the first bytes the server
 * sent (its greeting, which the session now owns and must release or pass on; null when the
 * backend does not wait for one).
 */
public record ServerConnection(Server server, BackendQueue.Slot slot, Channel channel, ByteBuf greeting) {
}
