package io.mailproxy.checks;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** One event loop and one {@link MailCheck} per test class, and the assertions every check test makes. */
abstract class CheckTestSupport {

    /**
     * For checks that must succeed: long enough for a cold, loaded 2-core machine (a reply sent byte by byte took
     * over 3 s there). Every test of a timeout sets its own shorter one, so passing tests never wait for this.
     */
    static final Duration TIMEOUT = Duration.ofSeconds(15);
    static final Duration SHORT_TIMEOUT = Duration.ofMillis(300);

    static EventLoopGroup group;
    static MailCheck checker;

    @BeforeAll
    static void startLoop() {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        checker = new MailCheck(NioSocketChannel.class);
    }

    @AfterAll
    static void stopLoop() throws InterruptedException {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await();
    }

    /** A check without PROXY header (most fake servers do not expect one) and a test-sized timeout. */
    static CheckSpec spec(CheckType type, InetSocketAddress target) {
        return CheckSpec.of(type, target).withSendProxy(CheckProxyHeader.NONE).withTimeout(TIMEOUT);
    }

    static CheckResult run(CheckSpec spec) throws Exception {
        return checker.run(group.next(), spec).get(TIMEOUT.toSeconds() + 15, TimeUnit.SECONDS);
    }

    static void assertResult(CheckStatus status, int code, String info, CheckResult result) {
        assertEquals(status, result.status(), () -> "result " + result);
        assertEquals(code, result.code(), () -> "result " + result);
        assertEquals(info, result.info(), () -> "result " + result);
    }
}
