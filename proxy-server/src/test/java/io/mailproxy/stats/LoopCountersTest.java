package io.mailproxy.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Counts from several event loops, each in its own stripe, summed when read. */
class LoopCountersTest {

    @Test
    void eachLoopCountsInItsOwnStripeAndReadersSumThem() throws Exception {
        LoopCounters counters = new LoopCounters(3);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(4, NioIoHandler.newFactory());
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int loop = 0; loop < 4; loop++) {
                done.add(group.next().submit(() -> {
                    long[] stripe = counters.stripe();
                    for (int i = 0; i < 100_000; i++) {
                        LoopCounters.add(stripe, 1, 1);
                        LoopCounters.add(stripe, 2, 3);
                    }
                }));
            }
            for (Future<?> f : done) {
                f.sync();
            }
            assertEquals(0, counters.sum(0));
            assertEquals(400_000, counters.sum(1));
            assertEquals(1_200_000, counters.sum(2));
            assertEquals(4, counters.stripes().size(), "one stripe per loop that counted");
        } finally {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void rateWeighsThePreviousSecond() {
        LoopCounters loop = new LoopCounters(ProxyCounters.SIZE);
        ProxyCounters c = new ProxyCounters(loop, 0);
        long[] stripe = loop.stripe();
        for (int i = 0; i < 10; i++) {
            c.session(stripe, 5_000 + i, 1);
        }
        assertEquals(10, c.rate(5_999), "within the second");
        assertEquals(5, c.rate(6_500), "half of the previous second still counts");
        assertEquals(0, c.rate(7_000), "gone after a whole second");
        assertEquals(10, c.maxRate());
        assertEquals(10, c.get(Stat.SESSIONS));
        assertEquals(5_009, c.get(Stat.LAST_SESSION_MILLIS));
    }
}
