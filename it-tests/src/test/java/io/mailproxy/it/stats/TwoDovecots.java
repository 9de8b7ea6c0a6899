package io.mailproxy.it.stats;

import io.mailproxy.dovecot.Dovecot;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * The statistics' integration tests share this setup: Dovecots {@code dc1} and {@code dc2},
 * started once per test class (side by side), and a directory for the proxy's files. The classes
 * run one after another, so the static fields serve one class at a time.
 */
abstract class TwoDovecots {

    @TempDir
    static Path dir;

    private static List<Dovecot> dovecots;
    static Dovecot dc1;
    static Dovecot dc2;

    @BeforeAll
    static void startDovecots() throws Exception {
        dovecots = StatsFixture.startDovecots();
        dc1 = dovecots.get(0);
        dc2 = dovecots.get(1);
    }

    @AfterAll
    static void stopDovecots() {
        StatsFixture.stop(dovecots);
        dovecots = null;
    }
}
