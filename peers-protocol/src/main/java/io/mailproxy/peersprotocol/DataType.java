package io.mailproxy.peersprotocol;

/**
 * How each stick-table data type HAProxy 2.6 knows is encoded in an update
 * ({@code stktable_data_types[]} in {@code src/stick_table.c}): the index is the type's bit in a
 * table definition. A peer's table with a type beyond these cannot be read, since the length of an
 * unknown value is unknown; its updates are skipped whole.
 */
enum DataType {
    SERVER_ID(Encoding.INTEGER, false),
    GPT0(Encoding.INTEGER, false),
    GPC0(Encoding.INTEGER, false),
    GPC0_RATE(Encoding.RATE, false),
    CONN_CNT(Encoding.INTEGER, false),
    CONN_RATE(Encoding.RATE, false),
    CONN_CUR(Encoding.INTEGER, false),
    SESS_CNT(Encoding.INTEGER, false),
    SESS_RATE(Encoding.RATE, false),
    HTTP_REQ_CNT(Encoding.INTEGER, false),
    HTTP_REQ_RATE(Encoding.RATE, false),
    HTTP_ERR_CNT(Encoding.INTEGER, false),
    HTTP_ERR_RATE(Encoding.RATE, false),
    BYTES_IN_CNT(Encoding.INTEGER, false),
    BYTES_IN_RATE(Encoding.RATE, false),
    BYTES_OUT_CNT(Encoding.INTEGER, false),
    BYTES_OUT_RATE(Encoding.RATE, false),
    GPC1(Encoding.INTEGER, false),
    GPC1_RATE(Encoding.RATE, false),
    SERVER_KEY(Encoding.DICTIONARY, false),
    HTTP_FAIL_CNT(Encoding.INTEGER, false),
    HTTP_FAIL_RATE(Encoding.RATE, false),
    GPT(Encoding.INTEGER, true),
    GPC(Encoding.INTEGER, true),
    GPC_RATE(Encoding.RATE, true);

    /** How one value is written. */
    enum Encoding {
        /** {@code STD_T_SINT}, {@code STD_T_UINT}, {@code STD_T_ULL}: one encoded integer. */
        INTEGER,
        /** {@code STD_T_FRQP}: three encoded integers (age of the period, current and previous counts). */
        RATE,
        /** {@code STD_T_DICT}: a length, then a cache id and, the first time, the value. */
        DICTIONARY
    }

    final Encoding encoding;
    /** An array: the definition gives the element count, and each element is encoded in turn. */
    final boolean array;

    DataType(Encoding encoding, boolean array) {
        this.encoding = encoding;
        this.array = array;
    }

    private static final DataType[] ALL = values();

    /** The type of bit {@code bit}, or null beyond those HAProxy 2.6 knows. */
    static DataType of(int bit) {
        return bit >= 0 && bit < ALL.length ? ALL[bit] : null;
    }

    /** The bits of every known type. */
    static final long KNOWN = (1L << ALL.length) - 1;

    /** Whether a definition carries parameters for this type after its expire: arrays and rates. */
    boolean hasParameters() {
        return array || encoding == Encoding.RATE;
    }
}
