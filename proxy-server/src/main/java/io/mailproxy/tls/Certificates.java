package io.mailproxy.tls;

import io.netty.handler.ssl.SslContext;
import io.netty.util.DomainWildcardMappingBuilder;
import io.netty.util.Mapping;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A frontend's certificates by name, at one moment: for each name (exact, or {@code *.} one label
 * deep) an ECDSA and an RSA certificate, either or both, and a default for clients whose SNI no
 * certificate carries (the first entry's). Immutable; a new set replaces it when the contexts are
 * rebuilt (new ticket keys).
 */
final class Certificates {

    /** One certificate entry built into a context. */
    record Entry(SslContext context, boolean ecdsa, OcspStaple staple) {
    }

    /** What one name offers: an ECDSA entry, an RSA entry, or both (HAProxy's multi-cert bundle). */
    record Choice(Entry ecdsa, Entry rsa) {
        Entry choose(boolean clientTakesEcdsa) {
            if (ecdsa == null) {
                return rsa;
            }
            if (rsa == null) {
                return ecdsa;
            }
            return clientTakesEcdsa ? ecdsa : rsa;
        }

        Choice with(Entry e) {
            // the first entry of a key type for a name wins, as the first certificate is the default
            if (e.ecdsa()) {
                return ecdsa == null ? new Choice(e, rsa) : this;
            }
            return rsa == null ? new Choice(ecdsa, e) : this;
        }
    }

    private final Mapping<String, Choice> byName;

    private Certificates(Mapping<String, Choice> byName) {
        this.byName = byName;
    }

    /**
     * The set of {@code entries}, each with the names of its certificate; the default is what the
     * first entry's first name offers (or the first entry alone when it has no name).
     */
    static Certificates of(List<Entry> entries, List<List<String>> names) {
        Map<String, Choice> choices = new LinkedHashMap<>();
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            for (String name : names.get(i)) {
                if (!DnsNames.isDnsName(name.startsWith("*.") ? name.substring(2) : name)) {
                    continue; // a CN that is no host name ("Example Mail Server") matches no SNI
                }
                choices.merge(name, new Choice(null, null).with(e), (old, fresh) -> old.with(e));
            }
        }
        List<String> firstNames = names.get(0);
        Choice fallback = firstNames.isEmpty() || !choices.containsKey(firstNames.get(0))
                ? new Choice(null, null).with(entries.get(0)) : choices.get(firstNames.get(0));
        DomainWildcardMappingBuilder<Choice> builder = new DomainWildcardMappingBuilder<>(fallback);
        choices.forEach(builder::add);
        return new Certificates(builder.build());
    }

    /** The entry for a client: by its SNI name when that is a host name, else the default. */
    Entry select(ClientHello hello) {
        // Only a host name is looked up: the mapping's IDN conversion throws on other strings.
        return byName.map(hello.dnsName()).choose(hello.ecdsa());
    }
}
