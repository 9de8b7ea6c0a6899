package io.mailproxy.balance;

/**
 * What a balancer needs to know of a server. The backend's servers implement it; the balancers
 * read it from any event loop, so implementations keep these values in volatile or atomic fields.
 */
public interface Candidate {

    /** Unique within its backend; the consistent-hash ring places points by it. */
    String name();

    /** Share of new sessions relative to the other servers, 0 to 256; 0 takes none. */
    int weight();

    /** May take new sessions: UP, not in maintenance or drained, weight above 0. */
    boolean usable();

    /** Takes sessions only while no normal server of its backend is usable. */
    boolean backup();

    /** Sessions placed on it plus those waiting for it in particular, for leastconn and random. */
    int load();

    /** Whether it is below its connection limit now. */
    boolean hasFreeSlot();
}
