package io.mailproxy.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PemFilesTest {
    @TempDir
    Path dir;

    /** Text outside the BEGIN/END lines is ignored by PEM readers (openssl too), whatever its charset. */
    @Test
    void nonAsciiTextAroundPemBlocksIsIgnored() throws Exception {
        GeneratedCertificate g = SelfSignedCertificates.selfSigned(dir, "mail.example.test");
        Path withText = Files.writeString(dir.resolve("with-text.pem"),
                "Subject: O = Soci\u00e9t\u00e9 G\u00e9n\u00e9rale\n" + Files.readString(g.certFile()), StandardCharsets.UTF_8);
        assertEquals(List.of(g.certificate()), PemFiles.certificates(withText));
    }
}
