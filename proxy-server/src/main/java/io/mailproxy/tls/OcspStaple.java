package io.mailproxy.tls;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.logging.Logger;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.OCSPException;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.SingleResp;
import org.bouncycastle.operator.DigestCalculatorProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

/**
 * The OCSP response stapled with one certificate (RFC 6066 8), from a DER file an admin (or a cron
 * job running {@code openssl ocsp}) keeps fresh. The file is read again when it changes; a response
 * that cannot be used is logged and the one before stays, until it expires: an expired response is
 * never stapled (a client would refuse it).
 *
 * <p>Thread-safe: {@link #response()} is read by every handshake, {@link #refresh()} runs on the
 * file-check thread.
 */
final class OcspStaple {

    private static final Logger LOG = Logger.getLogger(OcspStaple.class.getName());

    private final WatchedFile file;
    private final X509Certificate certificate;
    private final X509Certificate issuer;
    private volatile Response current;

    /** A usable response and when it stops being so. */
    private record Response(byte[] der, Instant nextUpdate) {
    }

    /** The file cannot be used; the message is one sentence for the user. */
    static final class OcspException extends Exception {
        OcspException(String message) {
            super(message, null, false, false);
        }
    }

    private OcspStaple(Path path, X509Certificate certificate, X509Certificate issuer) {
        this.file = new WatchedFile(path);
        this.certificate = certificate;
        this.issuer = issuer;
    }

    /**
     * Reads {@code path} for {@code chain}'s leaf; the issuer (the chain's second certificate) is
     * checked too when the chain has one.
     */
    static OcspStaple load(Path path, java.util.List<X509Certificate> chain) throws OcspException {
        OcspStaple staple = new OcspStaple(path, chain.get(0), chain.size() > 1 ? chain.get(1) : null);
        staple.file.read();
        staple.current = staple.parse(Instant.now());
        return staple;
    }

    /** The DER response to staple now, or null when there is none that is still valid. */
    byte[] response() {
        Response r = current;
        return r == null || r.nextUpdate() != null && !Instant.now().isBefore(r.nextUpdate()) ? null : r.der();
    }

    /** Reads the file again if it changed; says why (once) when the response in use has expired. */
    void refresh() {
        if (file.changed()) {
            file.read();
            try {
                current = parse(Instant.now());
                LOG.info(() -> "OCSP response for " + subject() + " reloaded from " + file.path());
            } catch (OcspException e) {
                LOG.warning(() -> "OCSP response for " + subject() + " not reloaded (the previous one stays "
                        + "until it expires): " + e.getMessage());
            }
        }
        Response r = current;
        if (r != null && r.nextUpdate() != null && !Instant.now().isBefore(r.nextUpdate())) {
            current = null;
            LOG.warning(() -> "OCSP response for " + subject() + " from " + file.path() + " expired at "
                    + r.nextUpdate() + "; nothing is stapled until the file holds a fresh one");
        }
    }

    private String subject() {
        return certificate.getSubjectX500Principal().getName();
    }

    private Response parse(Instant now) throws OcspException {
        Path path = file.path();
        byte[] der;
        try {
            der = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            throw new OcspException(path + " does not exist");
        } catch (IOException e) {
            throw new OcspException(path + " cannot be read: " + e.getMessage());
        }
        try {
            OCSPResp response = new OCSPResp(der);
            if (response.getStatus() != OCSPResp.SUCCESSFUL) {
                throw new OcspException(path + " is an unsuccessful OCSP response (status " + response.getStatus() + ")");
            }
            if (!(response.getResponseObject() instanceof BasicOCSPResp basic)) {
                throw new OcspException(path + " is not a basic OCSP response");
            }
            SingleResp single = about(basic);
            if (single == null) {
                throw new OcspException(path + " is not about the certificate " + subject() + " (serial "
                        + certificate.getSerialNumber().toString(16) + ")");
            }
            Date next = single.getNextUpdate();
            Instant nextUpdate = next == null ? null : next.toInstant();
            if (nextUpdate != null && !now.isBefore(nextUpdate)) {
                throw new OcspException(path + " expired at " + nextUpdate + " (its nextUpdate)");
            }
            return new Response(der, nextUpdate);
        } catch (IOException | OCSPException e) {
            throw new OcspException(path + " is not a DER OCSP response: " + e.getMessage());
        }
    }

    /** The response's entry about this certificate: its serial and, when known, its issuer. */
    private SingleResp about(BasicOCSPResp basic) throws OcspException, IOException, OCSPException {
        BigInteger serial = certificate.getSerialNumber();
        for (SingleResp single : basic.getResponses()) {
            if (!single.getCertID().getSerialNumber().equals(serial)) {
                continue;
            }
            if (issuer == null || single.getCertID().matchesIssuer(new X509CertificateHolder(encoded(issuer)),
                    digests())) {
                return single;
            }
        }
        return null;
    }

    private static byte[] encoded(X509Certificate c) throws OcspException {
        try {
            return c.getEncoded();
        } catch (CertificateEncodingException e) {
            throw new OcspException("the issuer certificate cannot be encoded: " + e.getMessage());
        }
    }

    private static DigestCalculatorProvider digests() throws OcspException {
        try {
            return new JcaDigestCalculatorProviderBuilder().build();
        } catch (OperatorCreationException e) {
            throw new OcspException("no digest for OCSP: " + e.getMessage());
        }
    }
}
