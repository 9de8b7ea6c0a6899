package io.mailproxy.tls;

import io.netty.handler.ssl.OpenSslSessionTicketKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * Session ticket keys from HAProxy's {@code tls-ticket-keys} file, so that several nodes (mailproxy
 * or HAProxy) reading one file resume each other's sessions.
 *
 * <p>The file: one key per line, base64; blank lines and lines starting with {@code #} are skipped.
 * A key is 48 bytes as HAProxy lays them out: a 16-byte name, a 16-byte AES-128 key, a 16-byte
 * HMAC-SHA256 key. (HAProxy also takes 80-byte AES-256 keys; BoringSSL's ticket format through
 * netty-tcnative has AES-128 only, so they are refused with a sentence.) As in HAProxy, the last
 * {@value #IN_USE} keys decrypt tickets and the second-to-last encrypts new ones, so that a key
 * appended to the file on every node is accepted everywhere before any node issues tickets with it.
 */
public final class TicketKeys {

    /** HAProxy's TLS_TICKETS_NO: how many keys are in use at once. */
    public static final int IN_USE = 3;
    private static final int NAME = 16;
    private static final int AES = 16;
    private static final int HMAC = 16;
    private static final int KEY_SIZE = NAME + AES + HMAC;
    private static final int AES256_KEY_SIZE = NAME + 32 + 32;

    private final List<OpenSslSessionTicketKey> keys;

    private TicketKeys(List<OpenSslSessionTicketKey> keys) {
        this.keys = List.copyOf(keys);
    }

    /** The file could not be used; the message is one sentence for the user. */
    public static final class TicketKeysException extends Exception {
        TicketKeysException(String message) {
            super(message, null, false, false);
        }
    }

    /** Reads {@code file}. */
    public static TicketKeys read(Path file) throws TicketKeysException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            throw new TicketKeysException(file + " does not exist");
        } catch (IOException e) {
            throw new TicketKeysException(file + " cannot be read: " + e.getMessage());
        }
        List<byte[]> raw = new ArrayList<>();
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n).trim();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            byte[] key;
            try {
                key = Base64.getDecoder().decode(line);
            } catch (IllegalArgumentException e) {
                throw new TicketKeysException(file + " line " + (n + 1) + " is not base64");
            }
            if (key.length == AES256_KEY_SIZE) {
                throw new TicketKeysException(file + " line " + (n + 1) + " holds an 80-byte (AES-256) key; "
                        + "mailproxy's TLS engine takes 48-byte keys: openssl rand 48 | openssl base64 -A");
            }
            if (key.length != KEY_SIZE) {
                throw new TicketKeysException(file + " line " + (n + 1) + " holds " + key.length
                        + " bytes; a key is 48 random bytes in base64: openssl rand 48 | openssl base64 -A");
            }
            raw.add(key);
        }
        if (raw.size() < IN_USE) {
            throw new TicketKeysException(file + " holds " + raw.size() + " key(s); at least " + IN_USE
                    + " are needed, as with HAProxy (the last " + IN_USE + " are used)");
        }
        List<byte[]> last = raw.subList(raw.size() - IN_USE, raw.size());
        // netty-tcnative encrypts with the first key it is given and decrypts with any of them.
        List<OpenSslSessionTicketKey> ordered = new ArrayList<>();
        ordered.add(key(last.get(IN_USE - 2)));
        ordered.add(key(last.get(IN_USE - 1)));
        for (int i = 0; i < IN_USE - 2; i++) {
            ordered.add(key(last.get(i)));
        }
        return new TicketKeys(ordered);
    }

    /** HAProxy's layout (name, AES key, HMAC key) into netty-tcnative's key. */
    private static OpenSslSessionTicketKey key(byte[] k) {
        return new OpenSslSessionTicketKey(Arrays.copyOfRange(k, 0, NAME),
                Arrays.copyOfRange(k, NAME + AES, NAME + AES + HMAC), Arrays.copyOfRange(k, NAME, NAME + AES));
    }

    /** The keys in netty-tcnative's order: the one that encrypts first. */
    public OpenSslSessionTicketKey[] keys() {
        return keys.toArray(OpenSslSessionTicketKey[]::new);
    }

    /** The name of the key that encrypts new tickets, in hex, for the log. */
    public String encryptingKeyName() {
        StringBuilder b = new StringBuilder();
        for (byte x : keys.get(0).name()) {
            b.append(String.format("%02x", x & 0xFF));
        }
        return b.toString();
    }
}
