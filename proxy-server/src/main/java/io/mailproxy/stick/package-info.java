/**
 * Stick tables: which server a client address was last sent to, so that its next sessions go
 * there too (HAProxy's {@code stick-table type ip} with {@code stick on src}). Dovecot must not
 * serve one user from two backends at once; keeping each client address on one server is how
 * HAProxy users ensure it.
 *
 * <p>{@link io.mailproxy.config.StickTableSettings} is the configured table (a value, kept with the
 * other settings records); {@link io.mailproxy.stick.StickTable} is the running one (behaviour).
 * The backend connector matches before the balancer picks and stores once a server took the
 * session, so after a retry the entry follows the server that finally served the client.
 *
 * <p>Why not a {@code ConcurrentHashMap} or a {@code LinkedHashMap} in access order: at a million
 * entries, the nodes, boxed keys and {@code InetAddress} objects cost 100 to 200 bytes per entry,
 * and an access-ordered map needs one lock around every lookup. The table here is open addressing
 * over primitive arrays (24 bytes a slot, 1.5 slots per entry: 36 bytes per entry), split into
 * independently locked segments, with eviction of the oldest of a random sample (Redis' approximate
 * LRU) instead of a list. See {@link io.mailproxy.stick.StickTable} for the details.
 */
package io.mailproxy.stick;
