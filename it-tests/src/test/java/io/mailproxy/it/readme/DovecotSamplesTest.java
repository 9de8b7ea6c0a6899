package io.mailproxy.it.readme;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.dovecot.Dovecot;
import io.mailproxy.dovecot.DovecotException;
import io.mailproxy.dovecot.DovecotTarget;
import io.mailproxy.dovecot.DovecotVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Dovecot side the README shows, {@code etc/dovecot/<version>-mailproxy.conf}, is read by that
 * version's own {@code doveconf}, added to Debian's packaged configuration as the file's comment
 * says. The negative control: the other version's file is refused, so the check can fail.
 */
@Tag("dovecot")
class DovecotSamplesTest {

    private static final Path ROOT = Path.of("").toAbsolutePath().getParent();

    @TempDir
    Path dir;

    @Test
    void theSampleOfThisVersionIsReadByItsDoveconf() throws IOException {
        DovecotTarget target = DovecotTarget.current();
        String out = Dovecot.doveconf(target, withDebiansConfig(target.version()));
        assertTrue(out.contains("haproxy_trusted_networks = 10.0.0.5/32"), out);
        assertTrue(out.contains("port = 10143") && out.contains("haproxy = yes"), out);
        if (target.version() == DovecotVersion.V2_4) {
            // auth_allow_cleartext = no is 2.4's default, so doveconf -n does not list it
            assertTrue(out.contains("\nssl = required\n"), out);
        }
    }

    @Test
    void theOtherVersionsSampleIsRefused() throws IOException {
        DovecotTarget target = DovecotTarget.current();
        DovecotVersion other = target.version() == DovecotVersion.V2_3 ? DovecotVersion.V2_4 : DovecotVersion.V2_3;
        DovecotException e = assertThrows(DovecotException.class,
                () -> Dovecot.doveconf(target, withDebiansConfig(other)));
        assertTrue(e.getMessage().contains(other == DovecotVersion.V2_4 ? "auth_allow_cleartext" : "disable_plaintext_auth"),
                e.getMessage());
    }

    /** Debian's configuration of the target's environment, then the sample, as conf.d/95-mailproxy.conf would be read. */
    private Path withDebiansConfig(DovecotVersion sample) throws IOException {
        Path copy = Files.copy(ROOT.resolve("etc/dovecot/" + sample.label() + "-mailproxy.conf"),
                dir.resolve("95-mailproxy.conf"));
        // 2.4 wants dovecot_config_version as the main file's first setting; Debian's file repeats it.
        String first = DovecotTarget.current().version() == DovecotVersion.V2_4 ? "dovecot_config_version = 2.4.0\n" : "";
        return Files.writeString(dir.resolve("dovecot.conf"),
                first + "!include /etc/dovecot/dovecot.conf\n!include " + copy + "\n");
    }
}
