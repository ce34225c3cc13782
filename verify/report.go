// Package verify is trustsign's offline validation policy: it turns what a format library (xades, pades) found
// in a signed file into an ETSI EN 319 102-1 style report (indication, sub-indication, checks, signer, time,
// trusted-profile identity, what is covered), builds certificate chains to configured trust roots, and applies
// algorithm constraints. It never touches the network.
//
// It is not a format parser: XML and PDF parsing and the cryptographic checks of each format live in the xades and
// pades packages.
package verify

import (
	"crypto/x509"
	"time"
)

// Indication is the main status of a validation (ETSI EN 319 102-1, 5.1.3).
type Indication string

// Indications, ordered from best to worst by Severity.
const (
	TotalPassed   Indication = "TOTAL_PASSED"
	Indeterminate Indication = "INDETERMINATE"
	TotalFailed   Indication = "TOTAL_FAILED"
	// NoSignature is used for a file report when the file holds no signature at all.
	NoSignature Indication = "NO_SIGNATURE_FOUND"
)

// Severity orders indications: a larger value is worse.
func (i Indication) Severity() int {
	switch i {
	case TotalPassed:
		return 0
	case NoSignature:
		return 1
	case Indeterminate:
		return 2
	case TotalFailed:
		return 3
	}
	return 3
}

// Worse returns the worse of two indications.
func Worse(a, b Indication) Indication {
	if b.Severity() > a.Severity() {
		return b
	}
	return a
}

// SubIndication refines an indication (ETSI EN 319 102-1, 5.1.3, table 6).
type SubIndication string

// Sub-indications used by trustsign.
const (
	FormatFailure                  SubIndication = "FORMAT_FAILURE"
	HashFailure                    SubIndication = "HASH_FAILURE"
	SigCryptoFailure               SubIndication = "SIG_CRYPTO_FAILURE"
	Revoked                        SubIndication = "REVOKED"
	SigConstraintsFailure          SubIndication = "SIG_CONSTRAINTS_FAILURE"
	ChainConstraintsFailure        SubIndication = "CHAIN_CONSTRAINTS_FAILURE"
	CertificateChainGeneralFailure SubIndication = "CERTIFICATE_CHAIN_GENERAL_FAILURE"
	CryptoConstraintsFailureNoPOE  SubIndication = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
	OutOfBoundsNoPOE               SubIndication = "OUT_OF_BOUNDS_NO_POE"
	NoCertificateChainFound        SubIndication = "NO_CERTIFICATE_CHAIN_FOUND"
	NoSigningCertificateFound      SubIndication = "NO_SIGNING_CERTIFICATE_FOUND"
	SignedDataNotFound             SubIndication = "SIGNED_DATA_NOT_FOUND"
)

// Sub-indications of long-term validation (longterm.go).
const (
	NotYetValid                SubIndication = "NOT_YET_VALID"
	RevokedNoPOE               SubIndication = "REVOKED_NO_POE"
	RevokedCANoPOE             SubIndication = "REVOKED_CA_NO_POE"
	TryLater                   SubIndication = "TRY_LATER"
	RevocationOutOfBoundsNoPOE SubIndication = "REVOCATION_OUT_OF_BOUNDS_NO_POE"
)

// Check is the outcome of one group of checks.
type Check string

// Check outcomes.
const (
	Passed     Check = "passed"
	Failed     Check = "failed"
	NotChecked Check = "not-checked"
)

// Checks groups the outcome of each kind of check made on one signature.
type Checks struct {
	Structure          Check `json:"structure"`
	Digests            Check `json:"digests"`
	SignatureValue     Check `json:"signatureValue"`
	SigningCertificate Check `json:"signingCertificate"`
	Chain              Check `json:"chain"`
}

// Signer describes the certificate that produced a signature. Subject and Issuer are RFC 4514 strings, Serial is
// decimal.
type Signer struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	Serial    string    `json:"serial"`
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
}

// TrustedProfile is the trusted-profile identity carried as signed data by a trusted signature.
type TrustedProfile struct {
	FirstName  string `json:"firstName"`
	SecondName string `json:"secondName,omitempty"`
	Surname    string `json:"surname"`
	PESEL      string `json:"pesel"`
	ProfileID  string `json:"profileId"`
	Login      string `json:"login"`
	// DateOfBirth is set when the newer podpis_zaufany format carries it (YYYY-MM-DD).
	DateOfBirth string `json:"dateOfBirth,omitempty"`
}

// WrappedFile describes a non-XML file carried inside trustsign's XML container (docs/wrapper.md).
type WrappedFile struct {
	Name     string `json:"name"`
	MIMEType string `json:"mimeType"`
	Size     int64  `json:"size"`
	// SHA256 is the hex SHA-256 digest of the wrapped file's bytes.
	SHA256 string `json:"sha256"`
}

// Change is one thing a later PDF revision did after a signature.
type Change struct {
	Revision int    `json:"revision"`
	Kind     string `json:"kind"`
	Allowed  bool   `json:"allowed"`
	Detail   string `json:"detail,omitempty"`
}

// SignatureReport is the validation result of one signature.
type SignatureReport struct {
	ID            string        `json:"id"`
	Indication    Indication    `json:"indication"`
	SubIndication SubIndication `json:"subIndication,omitempty"`
	Signer        *Signer       `json:"signer"`
	// SigningTime is the signing time the signer claimed (XAdES SigningTime, CMS signing-time or the PDF /M):
	// a claim, not a proof of existence; SigningTimeSource says so ("claimed").
	SigningTime       *time.Time      `json:"signingTime"`
	SigningTimeSource string          `json:"signingTimeSource,omitempty"`
	TrustedProfile    *TrustedProfile `json:"trustedProfile"`
	// ClaimedProfile is a trusted-profile identity written by a signer that is not one of the policy's
	// trusted-profile seals (Policy.ProfileSeals): the signer's claim, not the service's.
	ClaimedProfile *TrustedProfile `json:"claimedProfile,omitempty"`
	Covered        []string        `json:"covered"`
	// CoveredCodes are Covered as messages (code and parameters, one per Covered text, in the same order), for
	// showing them in another language (Message.Text).
	CoveredCodes []Message `json:"coveredCodes,omitempty"`
	Checks       Checks    `json:"checks"`
	// Reasons explains, one short sentence each, why the indication is not TOTAL_PASSED (and notes otherwise).
	Reasons []string `json:"reasons,omitempty"`
	// ReasonCodes are Reasons as messages, one per reason in the same order.
	ReasonCodes []Message `json:"reasonCodes,omitempty"`
	// Warnings are facts that do not change the indication but an auditor should know (a signature value in a
	// known non-standard encoding, a certificate with a negative serial number...).
	Warnings []string `json:"warnings,omitempty"`
	// WarningCodes are Warnings as messages, one per warning in the same order.
	WarningCodes []Message `json:"warningCodes,omitempty"`
	// Algorithm is the signature algorithm, e.g. "RSA-SHA256" or "ECDSA-SHA256".
	Algorithm string `json:"algorithm,omitempty"`
	// Level names the signature form, e.g. "XAdES-B-B", "XMLDSig", "PAdES-B-B", "CAdES/PKCS#7".
	Level string `json:"level,omitempty"`
	// TimeStamps lists the signature's time-stamps with their verdicts (timestamps.go).
	TimeStamps        []TimeStamp       `json:"timestamps,omitempty"`
	WrappedFile       *WrappedFile      `json:"wrappedFile,omitempty"`
	CounterSignatures []SignatureReport `json:"counterSignatures,omitempty"`
	// Changes lists what later PDF revisions did (PDF only).
	Changes []Change `json:"changes,omitempty"`
	// Modified is true when the signed content was changed after signing in a way the signature does not allow.
	Modified bool `json:"modified,omitempty"`
	// Revocation says, for each certificate of the signer's chain below the trust anchor, what the revocation data
	// showed (longterm.go).
	Revocation []CertificateRevocation `json:"revocation,omitempty"`

	findings []Finding
	// verified is the content the signature's references proved (XML only), see VerifiedContent.
	verified []VerifiedContent
	// cryptoFirst: a failed digest or signature value names a TOTAL_FAILED before a format defect (XML).
	cryptoFirst bool
	// cert is the certificate whose key verified the signature value (or the declared signer when it did not).
	cert *x509.Certificate
}

// Certificate returns the signer's certificate as the format library found it (the one Signer describes), nil
// when there was none. It is not part of the JSON report.
func (r *SignatureReport) Certificate() *x509.Certificate { return r.cert }

// VerifiedContent is what one data reference of an XML signature proved: the exact octets its digest covered,
// after its transforms (for an enveloped signature, the canonical document minus the excluded signatures).
// Whatever shows or extracts signed content reads it from here, never from the file again.
type VerifiedContent struct {
	// URI is the reference's URI ("" for the whole document).
	URI string
	// Octets are the digested octets.
	Octets []byte
}

// VerifiedContent returns the content the signature's data references proved, in reference order; only references
// whose digest matched are included (not the SignedProperties reference). It is not part of the JSON report.
func (r *SignatureReport) VerifiedContent() []VerifiedContent { return r.verified }

// FileReport is the validation result of one file.
type FileReport struct {
	File       string            `json:"file"`
	Format     string            `json:"format"`
	Indication Indication        `json:"indication"`
	Signatures []SignatureReport `json:"signatures"`
	// Error is set when the file could not be validated at all (for example it is malformed XML).
	Error string `json:"error,omitempty"`
	// ErrorCode is Error as a message (code and parameters).
	ErrorCode *Message `json:"errorCode,omitempty"`
	// Note, when set, says why a file has no signature (it is empty, or neither XML nor PDF); NoteCode is the same as a
	// message.
	Note     string   `json:"note,omitempty"`
	NoteCode *Message `json:"noteCode,omitempty"`
	// ValidationTime is the time at which certificates were checked (the policy's Now).
	ValidationTime *time.Time `json:"validationTime,omitempty"`
}

// Summarize sets r.Indication to the worst indication of its signatures (NoSignature when there are none and no
// error).
func (r *FileReport) Summarize() {
	if r.Signatures == nil {
		r.Signatures = []SignatureReport{}
	}
	if len(r.Signatures) == 0 {
		if r.Error != "" {
			r.Indication = TotalFailed
		} else {
			r.Indication = NoSignature
		}
		return
	}
	ind := TotalPassed
	for _, s := range r.Signatures {
		ind = Worse(ind, s.Indication)
		for _, c := range s.CounterSignatures {
			ind = Worse(ind, c.Indication)
		}
	}
	r.Indication = ind
}

// setError sets the file's Error and ErrorCode.
func (r *FileReport) setError(why Message) {
	r.Error, r.ErrorCode = why.English(), &why
}
