package io.mailproxy.stats.report;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import io.mailproxy.proxyprotocol.ProxyProtocolError;

/**
 * The CSV's columns: every field of HAProxy 2.6's {@code show stat}, in HAProxy's order (read from
 * {@code haproxy-2.6-fields.txt}, taken from Debian 12's haproxy), then mailproxy's own, all named
 * {@code mp_*}. Tools that read HAProxy's CSV by column name, or by position, read ours unchanged.
 */
public final class StatFields {

    /** HAProxy 2.6's fields, in order. */
    public static final List<String> HAPROXY = load();

    /** Sessions of a frontend (or backend, server) by phase, now. */
    public static final String SESS_HEADER = "mp_sess_header";
    public static final String SESS_TLS = "mp_sess_tls";
    public static final String SESS_QUEUED = "mp_sess_queued";
    public static final String SESS_CONNECTING = "mp_sess_connecting";
    public static final String SESS_RELAYING = "mp_sess_relaying";
    public static final String SESS_CLOSING = "mp_sess_closing";
    /** LMTP sessions in a mail transaction: from MAIL FROM to the server's last reply to its data. */
    public static final String LMTP_IN_TRANSACTION = "mp_lmtp_in_transaction";
    public static final String TLS_V1_2 = "mp_tls_v1_2";
    public static final String TLS_V1_3 = "mp_tls_v1_3";
    public static final String TLS_RESUMED = "mp_tls_resumed";
    public static final String TLS_FAILED = "mp_tls_failed";
    /** Refused with the "busy" reply: the queue was full or timed out. */
    public static final String REFUSED_BUSY = "mp_refused_busy";
    /** Refused with the "unavailable" reply: no server could be connected. */
    public static final String REFUSED_UNAVAILABLE = "mp_refused_unavailable";
    public static final String REFUSED_RATE = "mp_refused_rate";
    public static final String REFUSED_SOURCE = "mp_refused_source";
    public static final String REFUSED_UNTRUSTED = "mp_refused_untrusted";
    /** READY, DRAIN or MAINT. */
    public static final String ADMIN_STATE = "mp_admin_state";
    /** Whether health checks run (1), are disabled at run time (0), or do not exist (empty). */
    public static final String CHECKS_ENABLED = "mp_checks_enabled";
    /** How far the last check got: {@code connect}, {@code TLS handshake}, {@code the greeting}, ... */
    public static final String CHECK_STEP = "mp_check_step";
    /** What the server answered (or why the check failed), as logged. */
    public static final String CHECK_REPLY = "mp_check_reply";

    /** A PROXY header error's column, e.g. {@code mp_prx_bad_hdr}. */
    public static String prx(ProxyProtocolError e) {
        return "mp_" + e.code().toLowerCase(Locale.ROOT);
    }

    /** mailproxy's own fields, after HAProxy's. */
    public static final List<String> MAILPROXY = mailproxy();

    /** Every column, in order. */
    public static final List<String> ALL = concat();

    private StatFields() {
    }

    private static List<String> mailproxy() {
        List<String> out = new ArrayList<>(List.of(SESS_HEADER, SESS_TLS, SESS_QUEUED, SESS_CONNECTING, SESS_RELAYING,
                SESS_CLOSING, LMTP_IN_TRANSACTION, TLS_V1_2, TLS_V1_3, TLS_RESUMED, TLS_FAILED));
        for (ProxyProtocolError e : ProxyProtocolError.values()) {
            out.add(prx(e));
        }
        out.addAll(List.of(REFUSED_BUSY, REFUSED_UNAVAILABLE, REFUSED_RATE, REFUSED_SOURCE, REFUSED_UNTRUSTED,
                ADMIN_STATE, CHECKS_ENABLED, CHECK_STEP, CHECK_REPLY));
        return List.copyOf(out);
    }

    private static List<String> concat() {
        List<String> all = new ArrayList<>(HAPROXY);
        all.addAll(MAILPROXY);
        return List.copyOf(all);
    }

    private static List<String> load() {
        try (InputStream in = StatFields.class.getResourceAsStream("haproxy-2.6-fields.txt")) {
            if (in == null) {
                throw new IllegalStateException("haproxy-2.6-fields.txt is missing from the jar");
            }
            List<String> fields = new ArrayList<>();
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            for (String line; (line = r.readLine()) != null; ) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    fields.add(line.trim());
                }
            }
            return List.copyOf(fields);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
