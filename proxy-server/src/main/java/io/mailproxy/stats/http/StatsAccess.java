package io.mailproxy.stats.http;

import io.mailproxy.config.StatsSettings;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Who may read the statistics and act on servers: HTTP basic authentication against
 * {@code stats.auth}, and the admin token a form must carry.
 *
 * <p>The token is an HMAC of the user name under a key made at start: only a page served to that
 * user in this process carries it, so a page of another site that makes the admin's browser POST
 * (a forged request, which sends the cached credentials) cannot know it; a restart voids it.
 */
final class StatsAccess {

    private final StatsSettings settings;
    private final byte[] key = new byte[32];

    StatsAccess(StatsSettings settings) {
        this.settings = settings;
        new SecureRandom().nextBytes(key);
    }

    /** Whether anyone may read without credentials (no {@code auth}). */
    boolean open() {
        return settings.auth().isEmpty();
    }

    /** The user an {@code Authorization} header names with the right password, or null. */
    String user(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return null;
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
            return null;
        }
        String user = decoded.substring(0, colon);
        byte[] password = decoded.substring(colon + 1).getBytes(StandardCharsets.UTF_8);
        String found = null;
        for (StatsSettings.User u : settings.auth()) {
            // every entry is compared, in constant time, so timing tells nothing
            boolean match = MessageDigest.isEqual(u.user().getBytes(StandardCharsets.UTF_8), user.getBytes(StandardCharsets.UTF_8))
                    & MessageDigest.isEqual(u.password().getBytes(StandardCharsets.UTF_8), password);
            if (match) {
                found = u.user();
            }
        }
        return found;
    }

    /** Whether {@code user} may act on servers. */
    boolean admin(String user) {
        return user != null && settings.admin();
    }

    /** The token {@code user}'s forms carry. */
    String token(String user) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal(user.getBytes(StandardCharsets.UTF_8)), 0, 16);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from the JDK", e);
        }
    }

    /** Whether {@code token} is {@code user}'s. */
    boolean validToken(String user, String token) {
        return token != null && MessageDigest.isEqual(token(user).getBytes(StandardCharsets.US_ASCII),
                token.getBytes(StandardCharsets.US_ASCII));
    }
}
