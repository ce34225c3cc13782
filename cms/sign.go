package cms

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"
	"time"

	"github.com/cloudflare/circl/sign/ed448"

	"github.com/trustsign/trustsign/internal/pkcs1"
)

// SignOptions configures SignDetached.
type SignOptions struct {
	// Hash is the digest algorithm of the content digest, the signed attributes and the signing-certificate
	// reference: crypto.SHA256 (the default when zero), crypto.SHA384 or crypto.SHA512. With an Ed25519 key it is
	// crypto.SHA512 (the default then), as RFC 8419 requires; with an Ed448 key it must be zero: the digest is
	// SHAKE256 with 512 bits (RFC 8419), contentDigest is then 64 bytes and the signing-certificate reference
	// uses SHA-256.
	Hash crypto.Hash
	// Signer makes the signature: an RSA key (PKCS#1 v1.5), an ECDSA key (DER signature), an Ed25519 key or a
	// circl Ed448 key (RFC 8419: PureEdDSA over the signed attributes). Its public key must be the Certificate's
	// (for Ed448, read the certificate with ParseCertificate: crypto/x509 leaves its key nil).
	Signer crypto.Signer
	// Certificate is the signer's certificate: embedded, named in the SignerInfo's issuerAndSerialNumber, and
	// referenced by the signingCertificateV2 attribute.
	Certificate *x509.Certificate
	// Chain holds extra certificates to embed (intermediates; the root is usually left out). Duplicates of
	// Certificate are dropped.
	Chain []*x509.Certificate
	// SigningTime, when not nil, adds a signing-time attribute (CAdES). Nil adds none: PAdES baseline B-B puts
	// the time in the signature dictionary's /M instead.
	SigningTime *time.Time
	// PAdES makes the signed attributes exactly contentType (id-data), messageDigest and signingCertificateV2, the
	// PAdES baseline B-B shape; SigningTime must then be nil. When false (CAdES) the same three are written, plus
	// signing-time when SigningTime is set (CAdES baseline B-B wants it).
	PAdES bool
	// Rand is the randomness source for the signature; nil means crypto/rand.Reader.
	Rand io.Reader
	// TimeStamp, when set, is asked for an RFC 3161 time-stamp token over the signature value (the signature
	// time-stamp of CAdES/PAdES B-T, RFC 3161 appendix A): imprint is the hash of the SignerInfo's signature value
	// under the signature's digest algorithm (SHA-256 with Ed448), so its length tells the hash. The token is
	// verified (signature, critical id-kp-timeStamping EKU, imprint) and added as the unsigned attribute
	// id-aa-signatureTimeStampToken. An error from it fails the signing, wrapped.
	TimeStamp func(ctx context.Context, imprint []byte) ([]byte, error)
}

// SignDetached returns a DER ContentInfo holding a detached SignedData (RFC 5652) over content whose digest under
// opts.Hash is contentDigest: version 1, the digest algorithm, encapContentInfo id-data without eContent, the
// certificates, and one SignerInfo (issuerAndSerialNumber, DER-sorted signed attributes, rsaEncryption with
// PKCS#1 v1.5, ecdsa-with-SHA* or id-Ed25519). The signature is checked with the certificate's key before it is
// returned.
func SignDetached(contentDigest []byte, opts SignOptions) ([]byte, error) {
	return SignDetachedContext(context.Background(), contentDigest, opts)
}

// SignDetachedContext is SignDetached with the context passed to opts.TimeStamp.
func SignDetachedContext(ctx context.Context, contentDigest []byte, opts SignOptions) ([]byte, error) {
	d, err := opts.digestAlg()
	if err != nil {
		return nil, err
	}
	if len(contentDigest) != d.size() {
		return nil, fmt.Errorf("%w: content digest is %d bytes, %v needs %d", ErrInvalidOptions, len(contentDigest), d, d.size())
	}
	hash := d.hash // the hash of the signing-certificate reference (SHA-256 with SHAKE256)
	if d.shake256 {
		hash = crypto.SHA256
	}
	if opts.Signer == nil || opts.Certificate == nil {
		return nil, fmt.Errorf("%w: Signer and Certificate are required", ErrInvalidOptions)
	}
	if opts.PAdES && opts.SigningTime != nil {
		return nil, fmt.Errorf("%w: PAdES baseline B-B has no signing-time attribute (the time goes in /M)", ErrInvalidOptions)
	}
	sigAlg, err := signatureAlgorithmFor(opts.Signer.Public(), opts.Certificate, d.hash)
	if err != nil {
		return nil, err
	}

	attrs := [][]byte{
		derAttribute(oidAttrContentType, derOID(oidData)),
		derAttribute(oidAttrMessageDigest, derTLV(tagOctetString, contentDigest)),
		derAttribute(oidAttrSigningCertificateV2, derSigningCertificateV2(opts.Certificate, hash)),
	}
	if opts.SigningTime != nil {
		attrs = append(attrs, derAttribute(oidAttrSigningTime, derTime(*opts.SigningTime)))
	}
	signedAttrs := derSetOf(tagSet, attrs)
	sig, err := signAndCheck(opts.Signer, opts.rand(), opts.Certificate.PublicKey, hash, signedAttrs)
	if err != nil {
		return nil, err
	}

	var unsigned []byte
	if opts.TimeStamp != nil {
		attr, err := signatureTimeStamp(ctx, opts.TimeStamp, hash, sig)
		if err != nil {
			return nil, err
		}
		unsigned = derSetOf(tagContext1, [][]byte{attr})
	}

	digestAlg := derAlgorithmIdentifier(oidForHash(hash), nil) // RFC 5754: parameters absent
	if d.shake256 {
		digestAlg = derAlgorithmIdentifier(oidSHAKE256Len, derInt(big.NewInt(512))) // RFC 8419
	}
	si := derSignerInfo(derIssuerAndSerial(opts.Certificate), digestAlg, signedAttrs, sigAlg, sig, unsigned)
	return derContentInfo([][]byte{digestAlg}, certificateList(opts.Certificate, opts.Chain), [][]byte{si}), nil
}

// SignDetachedReader hashes r with the digest algorithm of opts (opts.Hash, or SHAKE256 for Ed448) and signs the
// digest as SignDetached does.
func SignDetachedReader(r io.Reader, opts SignOptions) ([]byte, error) {
	d, err := opts.digestAlg()
	if err != nil {
		return nil, err
	}
	h := d.newHasher()
	if _, err := io.Copy(h, r); err != nil {
		return nil, fmt.Errorf("cms: reading content: %w", err)
	}
	return SignDetached(h.sum(), opts)
}

// digestAlg is the digest algorithm of the signature: SHA-512 for Ed25519 and SHAKE256 for Ed448 (RFC 8419),
// else opts.Hash (SHA-256 by default).
func (o SignOptions) digestAlg() (digestAlg, error) {
	if o.Signer != nil {
		switch o.Signer.Public().(type) {
		case ed25519.PublicKey:
			if o.Hash != 0 && o.Hash != crypto.SHA512 {
				return digestAlg{}, fmt.Errorf("%w: Ed25519 signs with SHA-512 (RFC 8419), not %v", ErrInvalidOptions, o.Hash)
			}
			return digestAlg{hash: crypto.SHA512}, nil
		case ed448.PublicKey:
			if o.Hash != 0 {
				return digestAlg{}, fmt.Errorf("%w: Ed448 signs with SHAKE256 (RFC 8419), not %v", ErrInvalidOptions, o.Hash)
			}
			return digestAlg{shake256: true}, nil
		}
	}
	switch o.Hash {
	case 0:
		return digestAlg{hash: crypto.SHA256}, nil
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
		return digestAlg{hash: o.Hash}, nil
	}
	return digestAlg{}, fmt.Errorf("%w: hash %v (want SHA-256, SHA-384 or SHA-512)", ErrUnsupportedAlgorithm, o.Hash)
}

func (o SignOptions) rand() io.Reader {
	if o.Rand != nil {
		return o.Rand
	}
	return rand.Reader
}

// signatureAlgorithmFor checks that the signer's key is the certificate's and returns the encoded
// signatureAlgorithm: rsaEncryption with NULL parameters (RFC 3370), ecdsa-with-SHA* without parameters
// (RFC 5758) or id-Ed25519 without parameters (RFC 8419).
func signatureAlgorithmFor(pub crypto.PublicKey, cert *x509.Certificate, hash crypto.Hash) ([]byte, error) {
	eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !eq.Equal(cert.PublicKey) {
		return nil, ErrKeyMismatch
	}
	switch pub.(type) {
	case *rsa.PublicKey:
		return derAlgorithmIdentifier(oidRSAEncryption, derNull), nil
	case *ecdsa.PublicKey:
		return derAlgorithmIdentifier(ecdsaOIDForHash(hash), nil), nil
	case ed25519.PublicKey:
		return derAlgorithmIdentifier(oidEd25519, nil), nil
	case ed448.PublicKey:
		return derAlgorithmIdentifier(oidEd448, nil), nil
	}
	return nil, fmt.Errorf("%w: key type %T", ErrUnsupportedAlgorithm, pub)
}

// signAndCheck signs the signed attributes (their hash, or themselves for Ed25519) and verifies the result with
// pub, so that a faulty signer (an HSM returning garbage, an RSA-CRT fault) never produces a signature that will
// not verify.
func signAndCheck(signer crypto.Signer, rnd io.Reader, pub crypto.PublicKey, hash crypto.Hash, signedAttrs []byte) ([]byte, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey, ed448.PublicKey: // PureEdDSA over the signed attributes themselves
		sig, err := signer.Sign(rnd, signedAttrs, crypto.Hash(0))
		if err != nil {
			return nil, fmt.Errorf("cms: signing: %w", err)
		}
		var ok bool
		switch k := k.(type) {
		case ed25519.PublicKey:
			ok = ed25519.Verify(k, signedAttrs, sig)
		case ed448.PublicKey:
			ok = ed448.Verify(k, signedAttrs, sig, "")
		}
		if !ok {
			return nil, fmt.Errorf("cms: signer returned a signature that does not verify")
		}
		return sig, nil
	}
	hashed := digest(hash, signedAttrs)
	sig, err := signer.Sign(rnd, hashed, hash)
	if err != nil {
		return nil, fmt.Errorf("cms: signing: %w", err)
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if _, err := pkcs1.Verify(k, hash, hashed, sig); err != nil {
			return nil, fmt.Errorf("cms: signer returned a signature that does not verify: %w", err)
		}
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, hashed, sig) {
			return nil, fmt.Errorf("cms: signer returned a signature that does not verify (want DER ECDSA)")
		}
	}
	return sig, nil
}

// digest hashes data.
func digest(h crypto.Hash, data []byte) []byte {
	w := h.New()
	w.Write(data)
	return w.Sum(nil)
}

// derAttribute encodes Attribute ::= SEQUENCE { attrType OID, attrValues SET OF AttributeValue } with one value.
func derAttribute(oid asn1.ObjectIdentifier, value []byte) []byte {
	return derTLV(tagSequence, derOID(oid), derTLV(tagSet, value))
}

// derSigningCertificateV2 encodes SigningCertificateV2 (RFC 5035) with one ESSCertIDv2: the certificate hash and
// IssuerSerial. The hash algorithm is omitted for SHA-256, its DEFAULT value, as DER requires.
func derSigningCertificateV2(cert *x509.Certificate, hash crypto.Hash) []byte {
	var alg []byte
	if hash != crypto.SHA256 {
		alg = derAlgorithmIdentifier(oidForHash(hash), nil)
	}
	issuerSerial := derTLV(tagSequence,
		derTLV(tagSequence, derTLV(0xa4, cert.RawIssuer)), // GeneralNames { directoryName [4] Name }
		derInt(cert.SerialNumber))
	essCertID := derTLV(tagSequence, alg, derTLV(tagOctetString, digest(hash, cert.Raw)), issuerSerial)
	return derTLV(tagSequence, derTLV(tagSequence, essCertID))
}

// derIssuerAndSerial encodes IssuerAndSerialNumber.
func derIssuerAndSerial(cert *x509.Certificate) []byte {
	return derTLV(tagSequence, cert.RawIssuer, derInt(cert.SerialNumber))
}

// derSignerInfo encodes a version 1 SignerInfo. signedAttrs is the DER SET OF encoding that was signed (nil for
// none); it is stored with the [0] IMPLICIT tag. unsigned is the [1] IMPLICIT unsigned attributes, nil for none.
func derSignerInfo(sid, digestAlg, signedAttrs, sigAlg, sig, unsigned []byte) []byte {
	var attrs []byte
	if signedAttrs != nil {
		attrs = append([]byte{tagContext0}, signedAttrs[1:]...)
	}
	return derTLV(tagSequence, derInt(bigOne), sid, digestAlg, attrs, sigAlg, derTLV(tagOctetString, sig), unsigned)
}

// signatureTimeStamp asks stamp for a token over the hash of sig under h, checks it and returns the
// id-aa-signatureTimeStampToken attribute holding it.
func signatureTimeStamp(ctx context.Context, stamp func(context.Context, []byte) ([]byte, error), h crypto.Hash, sig []byte) ([]byte, error) {
	imprint := digest(h, sig)
	der, err := stamp(ctx, imprint)
	if err != nil {
		return nil, fmt.Errorf("cms: signature time-stamp: %w", err)
	}
	ts, err := ParseTimeStamp(der)
	if err != nil {
		return nil, fmt.Errorf("cms: signature time-stamp: %w", err)
	}
	if _, err := ts.Verify(imprint, h); err != nil {
		return nil, fmt.Errorf("cms: signature time-stamp: %w", err)
	}
	return derAttribute(oidAttrSignatureTimeStampToken, ts.SignedData.Raw), nil
}

// derContentInfo encodes ContentInfo { id-signedData, [0] EXPLICIT SignedData } with version 1, the digest
// algorithms, encapContentInfo id-data without eContent, the certificates (nil: field omitted) and signer infos.
func derContentInfo(digestAlgs, certs, signerInfos [][]byte) []byte {
	var certField []byte
	if certs != nil {
		certField = derSetOf(tagContext0, certs)
	}
	sd := derTLV(tagSequence,
		derInt(bigOne),
		derSetOf(tagSet, digestAlgs),
		derTLV(tagSequence, derOID(oidData)),
		certField,
		derSetOf(tagSet, signerInfos))
	return derTLV(tagSequence, derOID(oidSignedData), derTLV(tagContext0, sd))
}

// certificateList returns the DER certificates to embed: the signer's first, then the chain, without duplicates.
func certificateList(cert *x509.Certificate, chain []*x509.Certificate) [][]byte {
	out := [][]byte{cert.Raw}
next:
	for _, c := range chain {
		if c == nil {
			continue
		}
		for _, have := range out {
			if bytes.Equal(have, c.Raw) {
				continue next
			}
		}
		out = append(out, c.Raw)
	}
	return out
}
