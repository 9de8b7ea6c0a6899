package io.mailproxy.stats.report;

import java.util.List;

/**
 * HAProxy's CSV statistics ({@code show stat}, {@code /stats;csv}): a header line {@code # pxname,svname,...,}
 * naming every column, one line per row, every line ending with a comma as HAProxy's do, and an
 * empty line at the end. A value holding a comma, a quote or a line break is quoted as RFC 4180
 * says (HAProxy's {@code csv_enc()}).
 */
public final class StatsCsv {

    private StatsCsv() {
    }

    /** The header line, with its line feed. */
    public static String header() {
        return "# " + String.join(",", StatFields.ALL) + ",\n";
    }

    /** The whole CSV of {@code rows}. */
    public static String of(List<StatRow> rows) {
        StringBuilder b = new StringBuilder(header());
        for (StatRow r : rows) {
            for (String field : StatFields.ALL) {
                b.append(quote(r.get(field))).append(',');
            }
            b.append('\n');
        }
        return b.append('\n').toString();
    }

    static String quote(String v) {
        if (v.indexOf(',') < 0 && v.indexOf('"') < 0 && v.indexOf('\n') < 0 && v.indexOf('\r') < 0) {
            return v;
        }
        return '"' + v.replace("\"", "\"\"") + '"';
    }
}
