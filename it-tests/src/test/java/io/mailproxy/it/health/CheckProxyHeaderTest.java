package io.mailproxy.it.health;

import static io.mailproxy.it.health.HealthFixture.await;
import static io.mailproxy.it.health.HealthFixture.checkedUp;
import static io.mailproxy.it.health.HealthFixture.freePort;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.MailProxy;
import io.mailproxy.backend.Server;
import io.mailproxy.checks.CheckResult;
import io.mailproxy.checks.CheckStatus;
import io.mailproxy.dovecot.Dovecot;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The check's PROXY header against a Dovecot {@code haproxy = yes} listener: with {@code local} the
 * check passes and leaves only polite lines; without a header (the negative control) Dovecot waits
 * for one, the check times out, the server is DOWN and Dovecot logs its haproxy error, which the
 * noise filter of the failover test catches.
 */
@Tag("dovecot")
class CheckProxyHeaderTest {

    @TempDir
    Path dir;

    @Test
    void localHeaderPassesAndNoHeaderIsDown() throws Exception {
        try (Dovecot dc = Dovecot.start("hcph")) {
            int mark = dc.logLines().size();
            int port = dc.ports().imapHaproxy();
            // The good check's timeout leaves a cold Dovecot room to answer; the bad one's must end
            // before Dovecot's haproxy_timeout (3 s) does, so that the check times out first.
            String backend = """
                        %s {
                          servers = [{ name = dc, address = "127.0.0.1:%d" }]
                          health-check {
                            type = imap
                            send-proxy = %s
                            expect-capabilities = [IMAP4rev1]
                            interval = 500ms, fast-interval = 500ms, down-interval = 500ms
                            rise = 2, fall = 2, timeout = %s
                          }
                        }
                    """;
            String config = "mailproxy {\n  frontends.f { bind = [\"127.0.0.1:" + freePort() + "\"], backend = good }\n"
                    + "  backends {\n" + backend.formatted("good", port, "local", "5s")
                    + backend.formatted("bad", port, "none", "1s") + "  }\n}\n";
            try (MailProxy proxy = HealthFixture.proxy(dir, config)) {
                Server good = proxy.backends().get("good").server("dc");
                Server bad = proxy.backends().get("bad").server("dc");
                // fall 2 x interval 500ms + timeout 1s, plus jitter
                await("the header-less check's server DOWN", Duration.ofSeconds(60), () -> !bad.isUp());
                await("the good check's server checked and UP", Duration.ofSeconds(60), () -> checkedUp(List.of(good), proxy));
                CheckResult badResult = proxy.healthChecks().health(bad).lastResult();
                assertEquals(CheckStatus.L7TOUT, badResult.status(), badResult.toString());

                CheckResult goodResult = proxy.healthChecks().health(good).lastResult();
                assertTrue(good.isUp());
                assertEquals(CheckStatus.L7OK, goodResult.status(), goodResult.toString());

                // Dovecot reports each header-less connection when it goes: the check closed it at
                // its timeout, before Dovecot's own haproxy_timeout (3 s), e.g.
                // "imap-login: Info: haproxy: Client disconnected (rip=127.0.0.1): Connection reset by peer"
                String error = dc.awaitLog(Pattern.compile("imap-login: .*haproxy.*rip=127\\.0\\.0\\.1"),
                        Duration.ofSeconds(30));
                List<String> noise = CheckNoise.noise(HealthFixture.linesSince(dc, mark), dc.version());
                assertTrue(noise.contains(error), "the noise filter flags " + error + "; it found " + noise);
                assertFalse(CheckNoise.checkLines(HealthFixture.linesSince(dc, mark)).isEmpty());
            }
        }
    }
}
