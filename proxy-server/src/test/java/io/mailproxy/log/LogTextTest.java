package io.mailproxy.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

/** A detail that quotes a peer cannot end or forge a log line. */
class LogTextTest {

    @Test
    void controlCharactersBecomeSpaces() {
        assertEquals("bad  name x  [31m", LogText.oneLine("bad\r\nname\tx \u001b[31m"));
        assertEquals("a  b c", LogText.oneLine("a\r\nb\u0085c"));
    }

    /** Negative control: text without control characters is left as it is (the same object). */
    @Test
    void plainTextIsUntouched() {
        String s = "handshake failed: no shared cipher";
        assertSame(s, LogText.oneLine(s));
    }
}
