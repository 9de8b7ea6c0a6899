package io.mailproxy.dovecot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class DovecotTargetTest {

    @Test
    void everyCellParsesAndPrintsBack() {
        for (String cell : new String[] {"2.3-process", "2.3-container", "2.4-process", "2.4-container"}) {
            assertEquals(cell, DovecotTarget.parse(cell).toString());
        }
        assertEquals(new DovecotTarget(DovecotVersion.V2_4, DovecotTarget.Runtime.CONTAINER),
                DovecotTarget.parse(" 2.4-Container "));
    }

    @Test
    void unknownTargetsAreRefusedWithTheChoices() {
        for (String bad : new String[] {"2.4", "2.5-process", "2.3-docker", "", "-process"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DovecotTarget.parse(bad));
            assertEquals("Dovecot target '" + bad + "' is not one of 2.3-process, 2.3-container, 2.4-process,"
                    + " 2.4-container", e.getMessage());
        }
    }
}
