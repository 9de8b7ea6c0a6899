package io.mailproxy.checks;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;

/** Runs one check. {@link MailCheck} is the real one; tests script their own. */
@FunctionalInterface
public interface Checker {

    /**
     * Starts one check on {@code loop} and returns its result. The future never fails: every
     * failure, including a misbehaving server, is a {@link CheckResult}. Listeners run on {@code loop}.
     */
    Future<CheckResult> run(EventLoop loop, CheckSpec spec);
}
