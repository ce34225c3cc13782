package revocation

import (
	"bytes"
	"crypto"
	_ "crypto/sha1" // OCSP CertIDs are hashed with SHA-1 by default (RFC 6960 4.1.1)
	"crypto/sha256"
	_ "crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ocsp"
)

// Status is what one answer says of a certificate.
type Status string

// Statuses of an answer.
const (
	Good    Status = "good"
	Revoked Status = "revoked"
	// Unknown is an OCSP responder's "unknown": it knows nothing of the certificate.
	Unknown Status = "unknown"
)

// Kinds of answers.
const (
	KindOCSP = "OCSP"
	KindCRL  = "CRL"
)

// CRL reason codes (RFC 5280 5.3.1) that change how a revocation is read.
const (
	ReasonUnspecified     = 0
	ReasonKeyCompromise   = 1
	ReasonCertificateHold = 6
	ReasonRemoveFromCRL   = 8
)

// ClockSkew is how far an answer may be dated after the time Check is told is now: an answer dated later cannot
// be true and is skipped.
const ClockSkew = 5 * time.Minute

// Answer is one usable answer about a certificate: its signature verified against the certificate's issuer (or a
// responder the issuer delegated), it names the certificate, and it covers it.
type Answer struct {
	// Kind is KindOCSP or KindCRL; Index is the answer's position in Data.OCSP or Data.CRLs.
	Kind  string
	Index int
	// Status is Good, Revoked or Unknown (OCSP only). A CRL that does not list the certificate is Good.
	Status Status
	// RevokedAt and Reason are set when Status is Revoked (Reason is the RFC 5280 CRLReason, 0 when absent).
	RevokedAt time.Time
	Reason    int
	// ThisUpdate, NextUpdate (zero when absent) and ProducedAt (OCSP only) are the answer's own dates.
	ThisUpdate, NextUpdate, ProducedAt time.Time
	// KeepsExpiredSince is set when the answer still reports certificates that expired at or after this time
	// (the CRL's ExpiredCertsOnCRL extension, the OCSP archive cutoff); zero when the answer says nothing of it,
	// and then a certificate expired before the answer was issued may simply have been dropped from it.
	KeepsExpiredSince time.Time
	// Signer is the certificate that signed the answer: the issuer itself or a delegated OCSP responder.
	Signer *x509.Certificate
}

// Issued is the time the answer vouches for the status: its thisUpdate, "the most recent time at which the status
// being indicated is known to have been correct" (RFC 6960 4.2.2.1; a CRL's thisUpdate likewise). An OCSP
// response's producedAt only says when it was signed: a responder may sign an old status again, and x/crypto/ocsp
// rounds producedAt down to the minute.
func (a Answer) Issued() time.Time {
	return a.ThisUpdate
}

// Skipped is an answer of Data that was not usable for the certificate, and why.
type Skipped struct {
	Kind   string
	Index  int
	Reason string
}

// Result is what Check found in the data.
type Result struct {
	Answers []Answer
	Skipped []Skipped
}

// Check finds in d the answers about cert, issued by issuer, that can be used: OCSP responses signed by issuer
// or by a responder issuer certified for id-kp-OCSPSigning (valid when the response was produced), whose
// CertID names cert (serial, issuer name and key hashes); CRLs signed by issuer, naming it as their issuer and
// covering cert (complete, not delta, for cert's kind of certificate and distribution point). Answers dated after
// now (beyond ClockSkew) are skipped. An OCSP answer may be a whole OCSPResponse (Data's form) or a bare
// BasicOCSPResponse (as CAdES RevocationValues hold it). It never fetches anything and judges no time: what an answer means at a
// given time is the caller's policy.
func Check(cert, issuer *x509.Certificate, d Data, now time.Time) Result {
	return (*Memo)(nil).Check(cert, issuer, d, now)
}

// Memo remembers what Check found of each answer (by its content) about a certificate, so that validation data
// shared by the signatures and time-stamps of one file is parsed and its signatures checked once, not once per
// signature and per certificate judged. Keep one per validation: it holds an entry per answer and certificate it
// has seen. The zero value is ready; a nil Memo remembers nothing; safe for concurrent use.
type Memo struct {
	mu     sync.Mutex
	m      map[memoKey]memoEntry
	checks int
}

// Checks is how many answers m has checked (parsed and verified), as opposed to recalled: the measure of the
// work validation data cost, whatever the machine's speed.
func (m *Memo) Checks() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.checks
}

type memoKey struct {
	kind                       string
	answer, cert, issuer, pool [sha256.Size]byte
	now                        int64
}

type memoEntry struct {
	a   Answer
	err error
}

// Check is the package's Check, remembering each answer's verdict.
func (m *Memo) Check(cert, issuer *x509.Certificate, d Data, now time.Time) Result {
	var r Result
	if cert == nil || issuer == nil {
		return r
	}
	var key memoKey
	if m != nil {
		key = memoKey{cert: sha256.Sum256(cert.Raw), issuer: sha256.Sum256(issuer.Raw), now: now.UnixNano()}
		pool := sha256.New()
		for _, c := range d.Certificates {
			if c != nil {
				h := sha256.Sum256(c.Raw)
				pool.Write(h[:])
			}
		}
		pool.Sum(key.pool[:0])
	}
	// remembered runs check on der once per key (always when m is nil)
	remembered := func(kind string, der []byte, check func() (Answer, error)) (Answer, error) {
		if m == nil {
			return check()
		}
		key.kind, key.answer = kind, sha256.Sum256(der)
		m.mu.Lock()
		e, ok := m.m[key]
		m.mu.Unlock()
		if ok {
			return e.a, e.err
		}
		a, err := check()
		m.mu.Lock()
		if m.m == nil {
			m.m = map[memoKey]memoEntry{}
		}
		m.m[key] = memoEntry{a, err}
		m.checks++
		m.mu.Unlock()
		return a, err
	}
	for i, der := range d.OCSP {
		a, err := remembered(KindOCSP, der, func() (Answer, error) { return checkOCSP(der, cert, issuer, d.Certificates, now) })
		if err != nil {
			r.Skipped = append(r.Skipped, Skipped{Kind: KindOCSP, Index: i, Reason: err.Error()})
			continue
		}
		a.Index = i
		r.Answers = append(r.Answers, a)
	}
	for i, der := range d.CRLs {
		a, err := remembered(KindCRL, der, func() (Answer, error) { return checkCRL(der, cert, issuer, now) })
		if err != nil {
			r.Skipped = append(r.Skipped, Skipped{Kind: KindCRL, Index: i, Reason: err.Error()})
			continue
		}
		a.Index = i
		r.Answers = append(r.Answers, a)
	}
	return r
}

var (
	oidOCSPNoCheck       = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}
	oidOCSPArchiveCutoff = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 6}
	oidCRLNumber         = asn1.ObjectIdentifier{2, 5, 29, 20}
	oidDeltaCRLIndicator = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidIssuingDistPoint  = asn1.ObjectIdentifier{2, 5, 29, 28}
	oidAuthorityKeyID    = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidExpiredCertsOnCRL = asn1.ObjectIdentifier{2, 5, 29, 60}
	oidReasonCode        = asn1.ObjectIdentifier{2, 5, 29, 21}
	oidInvalidityDate    = asn1.ObjectIdentifier{2, 5, 29, 24}
)

// NeedsStatus reports whether cert's status must be shown by revocation data: false for a certificate that names
// no source of it (no OCSP responder in its Authority Information Access, no CRL distribution point), for an OCSP
// responder's certificate with id-pkix-ocsp-nocheck, and for a self-signed certificate (a trust anchor is trusted
// by configuration, not by revocation data).
func NeedsStatus(cert *x509.Certificate) bool {
	if cert == nil {
		return false
	}
	if len(cert.OCSPServer) == 0 && len(cert.CRLDistributionPoints) == 0 {
		return false
	}
	for _, e := range cert.Extensions {
		if e.Id.Equal(oidOCSPNoCheck) {
			return false
		}
	}
	if bytes.Equal(cert.RawIssuer, cert.RawSubject) && cert.CheckSignatureFrom(cert) == nil {
		return false
	}
	return true
}

// checkOCSP judges one DER OCSPResponse as an answer about cert.
func checkOCSP(der []byte, cert, issuer *x509.Certificate, pool []*x509.Certificate, now time.Time) (Answer, error) {
	der = wrapBasic(der)
	// the issuer is not passed: x/crypto/ocsp checks a delegated responder's certificate by its signature alone
	// (no id-kp-OCSPSigning, no validity) and refuses a response that embeds the issuer itself; we do it below
	resp, err := ocsp.ParseResponseForCert(der, cert, nil)
	if err != nil {
		return Answer{}, fmt.Errorf("%w: OCSP response not usable: %w", ocspParseError(err), err)
	}
	if err := matchCertID(der, cert, issuer); err != nil {
		return Answer{}, fmt.Errorf("%w: %w", ErrAnswerWrongCert, err)
	}
	signer, err := ocspSigner(resp, issuer, pool)
	if err != nil {
		return Answer{}, fmt.Errorf("%w: %w", ErrAnswerSignature, err)
	}
	a := Answer{Kind: KindOCSP, ThisUpdate: resp.ThisUpdate, NextUpdate: resp.NextUpdate, ProducedAt: resp.ProducedAt, Signer: signer}
	switch resp.Status {
	case ocsp.Good:
		a.Status = Good
	case ocsp.Revoked:
		a.Status, a.RevokedAt, a.Reason = Revoked, resp.RevokedAt, resp.RevocationReason
	case ocsp.Unknown:
		a.Status = Unknown
	default:
		return Answer{}, fmt.Errorf("OCSP response with status %d", resp.Status)
	}
	for _, e := range resp.Extensions {
		if e.Id.Equal(oidOCSPArchiveCutoff) {
			var t time.Time
			if rest, err := asn1.UnmarshalWithParams(e.Value, &t, "generalized"); err == nil && len(rest) == 0 {
				a.KeepsExpiredSince = t
			}
		}
	}
	if err := checkDates(a, now); err != nil {
		return Answer{}, err
	}
	return a, nil
}

// ocspSigner returns the certificate whose key signed resp: issuer, or a delegated responder (embedded in the
// response or found in pool) issued by issuer with id-kp-OCSPSigning and valid when the response was produced.
func ocspSigner(resp *ocsp.Response, issuer *x509.Certificate, pool []*x509.Certificate) (*x509.Certificate, error) {
	// ParseResponseForCert verified the signature with the embedded certificate, when there is one
	if resp.Certificate != nil {
		if resp.Certificate.Equal(issuer) {
			return issuer, nil
		}
		if err := delegated(resp.Certificate, issuer, resp.ProducedAt); err != nil {
			return nil, err
		}
		return resp.Certificate, nil
	}
	if resp.CheckSignatureFrom(issuer) == nil {
		return issuer, nil
	}
	var why error
	tried := 0
	for _, c := range pool {
		// only the certificates the response names as its responder, that name the issuer as theirs, are
		// candidates, and only a few of them get a signature check: validation data someone else made may hold
		// thousands of look-alikes, and each check is paid for every answer of every certificate judged
		if c == nil || !bytes.Equal(c.RawIssuer, issuer.RawSubject) || !namesResponder(resp, c) {
			continue
		}
		if tried++; tried > maxResponderCandidates {
			break
		}
		if resp.CheckSignatureFrom(c) != nil {
			continue
		}
		if why = delegated(c, issuer, resp.ProducedAt); why == nil {
			return c, nil
		}
	}
	if why != nil {
		return nil, why
	}
	return nil, errors.New("OCSP response not signed by the certificate's issuer nor by a responder it delegated")
}

// maxResponderCandidates bounds the certificates of the pool whose key is tried on one OCSP response.
const maxResponderCandidates = 4

// namesResponder reports whether resp's ResponderID (by name, or by the SHA-1 hash of its key) names c.
func namesResponder(resp *ocsp.Response, c *x509.Certificate) bool {
	if len(resp.RawResponderName) > 0 {
		return bytes.Equal(resp.RawResponderName, c.RawSubject)
	}
	key, err := subjectPublicKey(c)
	return err == nil && bytes.Equal(resp.ResponderKeyHash, sum(crypto.SHA1, key))
}

// delegated checks that responder is an OCSP responder issuer delegated (RFC 6960 4.2.2.2) and valid at t.
func delegated(responder, issuer *x509.Certificate, t time.Time) error {
	if !bytes.Equal(responder.RawIssuer, issuer.RawSubject) || responder.CheckSignatureFrom(issuer) != nil {
		return fmt.Errorf("OCSP responder %q is not certified by the certificate's issuer", responder.Subject.String())
	}
	if !slices.Contains(responder.ExtKeyUsage, x509.ExtKeyUsageOCSPSigning) {
		return fmt.Errorf("OCSP responder %q is not authorised to sign OCSP responses (no id-kp-OCSPSigning)", responder.Subject.String())
	}
	if t.Before(responder.NotBefore) || t.After(responder.NotAfter) {
		return fmt.Errorf("OCSP responder %q was not valid when the response was produced (%s)", responder.Subject.String(), t.UTC().Format(time.RFC3339))
	}
	return nil
}

// matchCertID requires the SingleResponse that x/crypto/ocsp chose (the first with cert's serial) to name cert's
// issuer too (issuerNameHash and issuerKeyHash): x/crypto/ocsp matches the serial number alone, so a response about
// another CA's certificate with the same serial would otherwise pass.
func matchCertID(der []byte, cert, issuer *x509.Certificate) error {
	ids, err := ocspCertIDs(der)
	if err != nil {
		return fmt.Errorf("OCSP response not usable: %w", err)
	}
	for _, id := range ids {
		if id.serial.Cmp(cert.SerialNumber) != 0 {
			continue
		}
		h := hashForOID(id.hashAlg)
		if h == 0 {
			return errors.New("OCSP response: unsupported CertID hash algorithm")
		}
		key, err := subjectPublicKey(issuer)
		if err != nil {
			return err
		}
		if !bytes.Equal(id.nameHash, sum(h, issuer.RawSubject)) || !bytes.Equal(id.keyHash, sum(h, key)) {
			return errors.New("OCSP response is about a certificate of another issuer (CertID issuer hashes differ)")
		}
		return nil
	}
	return errors.New("OCSP response does not name the certificate")
}

// wrapBasic returns a BasicOCSPResponse (as CAdES RevocationValues and some XAdES producers hold it) wrapped in a
// successful OCSPResponse; anything else is returned as it is.
func wrapBasic(der []byte) []byte {
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() || !seq.PeekASN1Tag(cbasn1.SEQUENCE) {
		return der // an OCSPResponse starts with its ENUMERATED responseStatus
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Enum(0) // successful
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidOCSPBasic)
				b.AddASN1OctetString(der)
			})
		})
	})
	out, err := b.Bytes()
	if err != nil {
		return der
	}
	return out
}

var oidOCSPBasic = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}

type certID struct {
	hashAlg           asn1.ObjectIdentifier
	nameHash, keyHash []byte
	serial            *big.Int
}

// ocspCertIDs reads the CertIDs of an OCSPResponse's SingleResponses, in order.
func ocspCertIDs(der []byte) ([]certID, error) {
	var resp, body, respBytes, basic, tbs, responses cryptobyte.String
	var status int
	var respType asn1.ObjectIdentifier
	in := cryptobyte.String(der)
	if !in.ReadASN1(&resp, cbasn1.SEQUENCE) || !resp.ReadASN1Enum(&status) ||
		!resp.ReadASN1(&respBytes, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!respBytes.ReadASN1(&body, cbasn1.SEQUENCE) || !body.ReadASN1ObjectIdentifier(&respType) ||
		!body.ReadASN1(&basic, cbasn1.OCTET_STRING) {
		return nil, errors.New("malformed OCSPResponse")
	}
	var basicSeq cryptobyte.String
	if !basic.ReadASN1(&basicSeq, cbasn1.SEQUENCE) || !basicSeq.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, errors.New("malformed BasicOCSPResponse")
	}
	tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) // version
	var responderID cryptobyte.String
	var tag cbasn1.Tag
	if !tbs.ReadAnyASN1(&responderID, &tag) || !tbs.SkipASN1(cbasn1.GeneralizedTime) ||
		!tbs.ReadASN1(&responses, cbasn1.SEQUENCE) {
		return nil, errors.New("malformed ResponseData")
	}
	var out []certID
	for !responses.Empty() {
		var single, id, alg cryptobyte.String
		var c certID
		c.serial = new(big.Int)
		var nameHash, keyHash cryptobyte.String
		if !responses.ReadASN1(&single, cbasn1.SEQUENCE) || !single.ReadASN1(&id, cbasn1.SEQUENCE) ||
			!id.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&c.hashAlg) ||
			!id.ReadASN1(&nameHash, cbasn1.OCTET_STRING) || !id.ReadASN1(&keyHash, cbasn1.OCTET_STRING) ||
			!id.ReadASN1Integer(c.serial) {
			return nil, errors.New("malformed SingleResponse")
		}
		c.nameHash, c.keyHash = nameHash, keyHash
		out = append(out, c)
	}
	return out, nil
}

var hashOIDs = map[crypto.Hash]asn1.ObjectIdentifier{
	crypto.SHA1:   {1, 3, 14, 3, 2, 26},
	crypto.SHA256: {2, 16, 840, 1, 101, 3, 4, 2, 1},
	crypto.SHA384: {2, 16, 840, 1, 101, 3, 4, 2, 2},
	crypto.SHA512: {2, 16, 840, 1, 101, 3, 4, 2, 3},
}

func hashForOID(oid asn1.ObjectIdentifier) crypto.Hash {
	for h, o := range hashOIDs {
		if o.Equal(oid) {
			return h
		}
	}
	return 0
}

func sum(h crypto.Hash, b []byte) []byte {
	d := h.New()
	d.Write(b)
	return d.Sum(nil)
}

// subjectPublicKey returns the bits of cert's subjectPublicKey (what an OCSP issuerKeyHash is over).
func subjectPublicKey(cert *x509.Certificate) ([]byte, error) {
	var spki, alg cryptobyte.String
	var key asn1.BitString
	in := cryptobyte.String(cert.RawSubjectPublicKeyInfo)
	if !in.ReadASN1(&spki, cbasn1.SEQUENCE) || !spki.ReadASN1(&alg, cbasn1.SEQUENCE) || !spki.ReadASN1BitString(&key) {
		return nil, errors.New("issuer's public key unreadable")
	}
	return key.Bytes, nil
}

// checkCRL judges one DER CRL as an answer about cert.
func checkCRL(der []byte, cert, issuer *x509.Certificate, now time.Time) (Answer, error) {
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		return Answer{}, fmt.Errorf("%w: CRL not usable: %w", ErrAnswerMalformed, err)
	}
	if !bytes.Equal(rl.RawIssuer, issuer.RawSubject) {
		return Answer{}, fmt.Errorf("%w: CRL of another issuer", ErrAnswerWrongCert)
	}
	if err := rl.CheckSignatureFrom(issuer); err != nil {
		return Answer{}, fmt.Errorf("%w: CRL signature does not verify with the issuer's key: %w", ErrAnswerSignature, err)
	}
	a := Answer{Kind: KindCRL, Status: Good, ThisUpdate: rl.ThisUpdate, NextUpdate: rl.NextUpdate, Signer: issuer}
	for _, e := range rl.Extensions {
		switch {
		case e.Id.Equal(oidDeltaCRLIndicator):
			return Answer{}, fmt.Errorf("%w: delta CRL (not used alone)", ErrAnswerWrongCert)
		case e.Id.Equal(oidIssuingDistPoint):
			if err := coveredBy(e.Value, cert); err != nil {
				return Answer{}, fmt.Errorf("%w: %w", ErrAnswerWrongCert, err)
			}
		case e.Id.Equal(oidExpiredCertsOnCRL):
			var t time.Time
			if rest, err := asn1.UnmarshalWithParams(e.Value, &t, "generalized"); err == nil && len(rest) == 0 {
				a.KeepsExpiredSince = t
			}
		case e.Id.Equal(oidCRLNumber), e.Id.Equal(oidAuthorityKeyID):
		case e.Critical:
			return Answer{}, fmt.Errorf("%w: CRL with an unknown critical extension %v", ErrAnswerMalformed, e.Id)
		}
	}
	for _, entry := range rl.RevokedCertificateEntries {
		for _, e := range entry.Extensions {
			if e.Critical && !e.Id.Equal(oidReasonCode) && !e.Id.Equal(oidInvalidityDate) {
				// e.g. a critical certificateIssuer: an indirect CRL, whose entries may be about another CA's certificates
				return Answer{}, fmt.Errorf("%w: CRL entry with an unknown critical extension %v", ErrAnswerMalformed, e.Id)
			}
		}
		if entry.SerialNumber != nil && entry.SerialNumber.Cmp(cert.SerialNumber) == 0 {
			if entry.ReasonCode == ReasonRemoveFromCRL {
				continue
			}
			a.Status, a.RevokedAt, a.Reason = Revoked, entry.RevocationTime, entry.ReasonCode
		}
	}
	if err := checkDates(a, now); err != nil {
		return Answer{}, err
	}
	return a, nil
}

// issuingDistributionPoint is RFC 5280 5.2.5.
type issuingDistributionPoint struct {
	DistributionPoint          asn1.RawValue  `asn1:"optional,tag:0"`
	OnlyContainsUserCerts      bool           `asn1:"optional,tag:1"`
	OnlyContainsCACerts        bool           `asn1:"optional,tag:2"`
	OnlySomeReasons            asn1.BitString `asn1:"optional,tag:3"`
	IndirectCRL                bool           `asn1:"optional,tag:4"`
	OnlyContainsAttributeCerts bool           `asn1:"optional,tag:5"`
}

// coveredBy checks that a CRL with this issuing distribution point covers cert (RFC 5280 6.3.3 b.2): its scope
// is cert's kind, it holds every reason, it is not indirect, and its distribution point is one cert names.
func coveredBy(der []byte, cert *x509.Certificate) error {
	var idp issuingDistributionPoint
	if rest, err := asn1.Unmarshal(der, &idp); err != nil || len(rest) != 0 {
		return errors.New("CRL with a malformed issuing distribution point")
	}
	switch {
	case idp.OnlyContainsUserCerts && cert.IsCA:
		return errors.New("CRL covers end-entity certificates only")
	case idp.OnlyContainsCACerts && !cert.IsCA:
		return errors.New("CRL covers CA certificates only")
	case idp.OnlyContainsAttributeCerts:
		return errors.New("CRL covers attribute certificates only")
	case idp.OnlySomeReasons.BitLength > 0:
		return errors.New("CRL covers some revocation reasons only")
	case idp.IndirectCRL:
		return errors.New("indirect CRL (not supported)")
	}
	if len(idp.DistributionPoint.FullBytes) == 0 {
		return nil
	}
	// DistributionPointName: fullName [0] GeneralNames | nameRelativeToCRLIssuer [1]
	var dpn asn1.RawValue
	if _, err := asn1.Unmarshal(idp.DistributionPoint.Bytes, &dpn); err != nil || dpn.Tag != 0 {
		return errors.New("CRL distribution point name not supported")
	}
	rest := dpn.Bytes
	for len(rest) > 0 {
		var gn asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &gn); err != nil {
			return errors.New("CRL with a malformed distribution point name")
		}
		if gn.Class == asn1.ClassContextSpecific && gn.Tag == 6 && slices.Contains(cert.CRLDistributionPoints, string(gn.Bytes)) {
			return nil
		}
	}
	return errors.New("CRL of another distribution point than the certificate names")
}

// checkDates refuses an answer dated after now or whose dates contradict each other.
func checkDates(a Answer, now time.Time) error {
	latest := now.Add(ClockSkew)
	switch {
	case a.ThisUpdate.After(latest), a.ProducedAt.After(latest):
		return fmt.Errorf("%w: %s dated %s, after the validation time %s", ErrAnswerNotYetValid, a.Kind, a.Issued().UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	case !a.NextUpdate.IsZero() && a.NextUpdate.Before(a.ThisUpdate):
		return fmt.Errorf("%w: %s whose nextUpdate is before its thisUpdate", ErrAnswerMalformed, a.Kind)
	case a.Status == Revoked && a.RevokedAt.After(latest):
		return fmt.Errorf("%w: %s revocation dated after the validation time", ErrAnswerNotYetValid, a.Kind)
	}
	return nil
}

// ocspParseError classifies an error of x/crypto/ocsp's parser: a responder's refusal (a status other than
// successful), a signature that does not verify, no status for the certificate's serial, or a malformed response.
func ocspParseError(err error) error {
	var re ocsp.ResponseError
	switch {
	case errors.As(err, &re):
		return ErrResponderStatus
	case strings.Contains(err.Error(), "signature"):
		return ErrAnswerSignature
	case strings.Contains(err.Error(), "no response matching"):
		return ErrAnswerWrongCert
	}
	return ErrAnswerMalformed
}
