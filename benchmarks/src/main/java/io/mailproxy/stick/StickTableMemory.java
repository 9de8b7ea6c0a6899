package io.mailproxy.stick;

import io.mailproxy.config.StickTableSettings;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;

/**
 * The heap a full {@link StickTable} of one million entries retains: heap in use after a GC,
 * before the table is made and after it is filled, divided by the entries.
 *
 * <p>Run: {@code java -Xmx1g -cp benchmarks/target/benchmarks.jar io.mailproxy.stick.StickTableMemory}.
 * Exits with status 1 above 64 bytes per entry, the project's bound.
 */
public final class StickTableMemory {

    private static final int ENTRIES = 1_000_000;
    private static final long BOUND = 64;

    private StickTableMemory() {
    }

    public static void main(String[] args) throws InterruptedException {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long before = usedAfterGc(memory);
        StickTable table = StickTable.of(new StickTableSettings("memory", false, ENTRIES, Duration.ofMinutes(30)));
        for (int i = 0; i < ENTRIES; i++) {
            // a mix of IPv4 and IPv6 clients, 4 servers
            if ((i & 1) == 0) {
                table.store(0, 0x0000_FFFF_0000_0000L | i, "dc" + (i & 3));
            } else {
                table.store(0x2001_0DB8_0000_0000L, i, "dc" + (i & 3));
            }
        }
        long after = usedAfterGc(memory);
        if (table.count() != ENTRIES) {
            throw new IllegalStateException("expected " + ENTRIES + " entries, found " + table.count());
        }
        double perEntry = (after - before) / (double) ENTRIES;
        System.out.printf("entries=%d retained=%d bytes bytes/entry=%.1f (bound %d)%n", table.count(), after - before,
                perEntry, BOUND);
        // keeps the table reachable until after the measurement
        System.out.println(table.match(0, 0x0000_FFFF_0000_0000L) != null ? "ok" : "lost an entry");
        if (perEntry > BOUND) {
            System.exit(1);
        }
    }

    private static long usedAfterGc(MemoryMXBean memory) throws InterruptedException {
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(50);
        }
        return memory.getHeapMemoryUsage().getUsed();
    }
}
