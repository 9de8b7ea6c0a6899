package io.mailproxy.stats.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The CSV's shape. Its HAProxy part is compared with a running HAProxy 2.6 in it-tests
 * ({@code HaproxyCsvTest}); here the file it comes from and the writing.
 */
class StatsCsvTest {

    @Test
    void headerIsHaproxysFieldsThenOurs() {
        String header = StatsCsv.header();
        assertTrue(header.startsWith("# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,"
                + "wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,"
                + "tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,"), header);
        assertTrue(header.endsWith(",mp_check_reply,\n"));
        assertEquals(128, StatFields.HAPROXY.size(), "HAProxy 2.6.12's fields, modules included");
        assertEquals("h1_spliced_bytes_out", StatFields.HAPROXY.get(127));
        assertTrue(StatFields.MAILPROXY.stream().allMatch(f -> f.startsWith("mp_")));
    }

    @Test
    void rowsHaveEveryColumnAndQuoteWhatNeedsIt() {
        StatRow r = new StatRow(StatRow.Kind.SERVER, "pool", "dc1", Map.of("pxname", "pool", "svname", "dc1",
                "status", "UP", "mp_check_reply", "* BYE \"busy\", later"), null, null);
        String csv = StatsCsv.of(List.of(r));
        String[] lines = csv.split("\n", -1);
        assertEquals(4, lines.length, "header, row, the empty line, and the end");
        assertTrue(lines[1].startsWith("pool,dc1,,,"));
        assertTrue(lines[1].endsWith(",\"* BYE \"\"busy\"\", later\","), lines[1]);
        assertEquals("", lines[2]);
    }
}
