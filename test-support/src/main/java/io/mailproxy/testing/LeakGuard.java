package io.mailproxy.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test when Netty reports a buffer leak.
 *
 * <p>Registered for every test through JUnit's extension auto-detection (the service file in this
 * module and {@code junit.jupiter.extensions.autodetection.enabled=true} in each module's
 * {@code junit-platform.properties}). Netty reports a leak only when a later allocation polls the
 * reference queue after the leaked buffer was collected, so after each test the guard collects
 * garbage and allocates a few tracked buffers before it looks at what was reported.
 */
public final class LeakGuard implements BeforeEachCallback, AfterEachCallback {

    private static final Logger DETECTOR_LOG = Logger.getLogger(ResourceLeakDetector.class.getName());
    private static final List<String> REPORTS = new ArrayList<>();

    static {
        DETECTOR_LOG.addHandler(new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getLevel().intValue() >= Level.SEVERE.intValue()) {
                    synchronized (REPORTS) {
                        REPORTS.add(record.getMessage() + " " + String.valueOf(record.getParameters() == null
                                ? "" : List.of(record.getParameters())));
                    }
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        });
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        synchronized (REPORTS) {
            REPORTS.clear();
        }
    }

    @Override
    public void afterEach(ExtensionContext context) throws InterruptedException {
        List<String> found = collect();
        if (!found.isEmpty()) {
            throw new AssertionError("Netty reported " + found.size() + " leak(s):\n" + String.join("\n", found));
        }
    }

    /** Forces collection and detection, then returns (and clears) the leaks reported so far. */
    public static List<String> collect() throws InterruptedException {
        for (int round = 0; round < 3; round++) {
            System.gc();
            Thread.sleep(20);
            for (int i = 0; i < 64; i++) {
                ByteBuf a = PooledByteBufAllocator.DEFAULT.buffer(8);
                ByteBuf b = UnpooledByteBufAllocator.DEFAULT.buffer(8);
                ByteBuf c = PooledByteBufAllocator.DEFAULT.directBuffer(8);
                a.release();
                b.release();
                c.release();
            }
        }
        synchronized (REPORTS) {
            List<String> copy = List.copyOf(REPORTS);
            REPORTS.clear();
            return copy;
        }
    }
}
