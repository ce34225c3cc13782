package cms

import (
	"crypto"
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// RFC 3161 time-stamp tokens.
var (
	oidTSTInfo                     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
	oidAttrSignatureTimeStampToken = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	oidExtKeyUsage                 = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidKPTimeStamping              = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
	errTimeStampTrailing           = errors.New("trailing data after TSTInfo")
)

// Time-stamp errors, in addition to the package's parse and signature errors.
var (
	// ErrNotTimeStamp reports a SignedData whose eContentType is not id-ct-TSTInfo, or without encapsulated
	// TSTInfo, or with other than one SignerInfo.
	ErrNotTimeStamp = errors.New("cms: not an RFC 3161 time-stamp token")
	// ErrTimeStampImprint reports a time-stamp whose messageImprint is not over the expected data (other hash
	// algorithm or other hash value).
	ErrTimeStampImprint = errors.New("cms: time-stamp message imprint does not match")
	// ErrTimeStampSigner reports a time-stamp whose signer certificate is not a TSA certificate: its extended key
	// usage is not exactly id-kp-timeStamping, marked critical (RFC 3161, 2.3).
	ErrTimeStampSigner = errors.New("cms: time-stamp signer is not a TSA certificate (critical id-kp-timeStamping EKU)")
	// ErrTimeStampInvalid reports a time-stamp whose token signature, message digest, content type or
	// signing-certificate reference does not verify.
	ErrTimeStampInvalid = errors.New("cms: time-stamp token signature does not verify")
)

// TimeStamp is a parsed RFC 3161 TimeStampToken: a SignedData encapsulating a TSTInfo.
type TimeStamp struct {
	// SignedData is the token's SignedData (certificates for chain building are in SignedData.Certificates).
	SignedData *SignedData
	// Info is the decoded TSTInfo.
	Info TSTInfo
}

// TSTInfo is the content of a time-stamp token (RFC 3161, 2.4.2).
type TSTInfo struct {
	// Version is 1.
	Version int
	// Policy is the TSA policy under which the token was issued.
	Policy asn1.ObjectIdentifier
	// HashAlgorithm is the hash of the message imprint, 0 if this package does not know it.
	HashAlgorithm crypto.Hash
	// HashAlgorithmOID is the message imprint's hash algorithm as found.
	HashAlgorithmOID asn1.ObjectIdentifier
	// HashedMessage is the message imprint's hash value.
	HashedMessage []byte
	// SerialNumber is the token's serial number.
	SerialNumber *big.Int
	// GenTime is when the token was made, in UTC.
	GenTime time.Time
	// Accuracy is the accuracy of GenTime, 0 when absent.
	Accuracy time.Duration
	// Ordering is the ordering field.
	Ordering bool
	// Nonce is the request's nonce, nil when absent.
	Nonce *big.Int
	// TSA is the tsa field when it is a directoryName, nil otherwise.
	TSA *pkix.Name
	// RawTSA is the encoding of the tsa GeneralName, nil when absent.
	RawTSA []byte
	// Raw is the TSTInfo encoding (the token's eContent).
	Raw []byte
}

type tstInfoASN1 struct {
	Version        int
	Policy         asn1.ObjectIdentifier
	MessageImprint struct {
		HashAlgorithm pkix.AlgorithmIdentifier
		HashedMessage []byte
	}
	SerialNumber *big.Int
	GenTime      time.Time     `asn1:"generalized"`
	Accuracy     accuracyASN1  `asn1:"optional"`
	Ordering     bool          `asn1:"optional,default:false"`
	Nonce        *big.Int      `asn1:"optional"`
	TSA          asn1.RawValue `asn1:"tag:0,explicit,optional"`
	Extensions   asn1.RawValue `asn1:"tag:1,optional"`
}

type accuracyASN1 struct {
	Seconds int `asn1:"optional"`
	Millis  int `asn1:"tag:0,optional"`
	Micros  int `asn1:"tag:1,optional"`
}

// ParseTimeStamp decodes a TimeStampToken (the token itself, not a TimeStampResp): a ContentInfo holding a
// SignedData whose eContentType is id-ct-TSTInfo, with one SignerInfo. It checks the shape only; Verify checks
// the signature, the imprint and the signer's key usage.
func ParseTimeStamp(der []byte) (*TimeStamp, error) {
	sd, err := Parse(der)
	if err != nil {
		return nil, err
	}
	if sd.TrailingZeros != 0 {
		return nil, fmt.Errorf("%w: %d zero bytes after the token", ErrTrailingData, sd.TrailingZeros)
	}
	if !sd.ContentType.Equal(oidTSTInfo) {
		return nil, fmt.Errorf("%w: eContentType %v", ErrNotTimeStamp, sd.ContentType)
	}
	if sd.EContent == nil {
		return nil, fmt.Errorf("%w: no encapsulated TSTInfo", ErrNotTimeStamp)
	}
	if len(sd.SignerInfos) != 1 {
		return nil, fmt.Errorf("%w: %d SignerInfos (want the TSA's only)", ErrNotTimeStamp, len(sd.SignerInfos))
	}
	info, err := parseTSTInfo(sd.EContent)
	if err != nil {
		return nil, err
	}
	return &TimeStamp{SignedData: sd, Info: *info}, nil
}

// parseTSTInfo decodes TSTInfo.
func parseTSTInfo(der []byte) (*TSTInfo, error) {
	var a tstInfoASN1
	rest, err := asn1.Unmarshal(der, &a)
	if err != nil {
		return nil, fmt.Errorf("%w: TSTInfo: %w", ErrMalformed, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, errTimeStampTrailing)
	}
	if a.Version != 1 {
		return nil, fmt.Errorf("%w: TSTInfo version %d", ErrMalformed, a.Version)
	}
	if a.SerialNumber == nil || len(a.MessageImprint.HashedMessage) == 0 {
		return nil, fmt.Errorf("%w: TSTInfo without serial number or imprint", ErrMalformed)
	}
	acc := a.Accuracy
	if acc.Seconds < 0 || acc.Millis < 0 || acc.Millis > 999 || acc.Micros < 0 || acc.Micros > 999 || acc.Seconds > 1<<30 {
		return nil, fmt.Errorf("%w: TSTInfo accuracy out of range", ErrMalformed)
	}
	info := &TSTInfo{
		Version:          a.Version,
		Policy:           a.Policy,
		HashAlgorithmOID: a.MessageImprint.HashAlgorithm.Algorithm,
		HashAlgorithm:    hashForOID(a.MessageImprint.HashAlgorithm.Algorithm),
		HashedMessage:    a.MessageImprint.HashedMessage,
		SerialNumber:     a.SerialNumber,
		GenTime:          a.GenTime.UTC(),
		Accuracy:         time.Duration(acc.Seconds)*time.Second + time.Duration(acc.Millis)*time.Millisecond + time.Duration(acc.Micros)*time.Microsecond,
		Ordering:         a.Ordering,
		Nonce:            a.Nonce,
		Raw:              der,
	}
	if len(a.TSA.FullBytes) > 0 {
		info.RawTSA = a.TSA.Bytes
		var gn asn1.RawValue
		if _, err := asn1.Unmarshal(a.TSA.Bytes, &gn); err == nil && gn.Class == asn1.ClassContextSpecific && gn.Tag == 4 {
			var rdn pkix.RDNSequence
			if rest, err := asn1.Unmarshal(gn.Bytes, &rdn); err == nil && len(rest) == 0 {
				var n pkix.Name
				n.FillFromRDNSequence(&rdn)
				info.TSA = &n
			}
		}
	}
	return info, nil
}

// Verify checks the token: its signature (our CMS verifier over the encapsulated TSTInfo, with a content-type
// attribute id-ct-TSTInfo and a signing-certificate reference naming the signer), that the signer certificate's
// extended key usage is exactly id-kp-timeStamping and critical, and that the message imprint is imprint under h.
// It returns the signer certificate. Chain building, trust anchors and the certificate's validity at GenTime are
// the caller's policy. Errors wrap ErrTimeStampInvalid, ErrTimeStampSigner or ErrTimeStampImprint.
func (ts *TimeStamp) Verify(imprint []byte, h crypto.Hash) (*x509.Certificate, error) {
	cert, err := ts.VerifySignature()
	if err != nil {
		return cert, err
	}
	if err := ts.CheckImprint(imprint, h); err != nil {
		return cert, err
	}
	return cert, nil
}

// CheckImprint reports whether the token's message imprint is imprint under h (ErrTimeStampImprint if not).
func (ts *TimeStamp) CheckImprint(imprint []byte, h crypto.Hash) error {
	i := ts.Info
	if h == 0 || i.HashAlgorithm != h {
		return fmt.Errorf("%w: token hashes with %v, expected %v", ErrTimeStampImprint, i.HashAlgorithmOID, h)
	}
	if subtle.ConstantTimeCompare(i.HashedMessage, imprint) != 1 {
		return fmt.Errorf("%w: other hash value", ErrTimeStampImprint)
	}
	return nil
}

// VerifySignature checks the token's signature and its signer's key usage as Verify does, without the imprint,
// and returns the signer certificate (nil when not found).
func (ts *TimeStamp) VerifySignature() (*x509.Certificate, error) {
	sd := ts.SignedData
	res, err := sd.VerifyEncapsulated()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTimeStampInvalid, err)
	}
	r := res[0]
	switch {
	case r.SignerCert == nil || !r.DigestOK || !r.SignatureOK:
		if r.SignatureErr != nil {
			return r.SignerCert, fmt.Errorf("%w: %w", ErrTimeStampInvalid, r.SignatureErr)
		}
		return r.SignerCert, fmt.Errorf("%w: message digest does not match the TSTInfo", ErrTimeStampInvalid)
	case !sd.SignerInfo.HasSignedAttributes || !sd.SignerInfo.ContentType.Equal(oidTSTInfo):
		return r.SignerCert, fmt.Errorf("%w: content-type attribute is not id-ct-TSTInfo", ErrTimeStampInvalid)
	case r.SigningCertificateRef == CertRefNone || !r.SigningCertificateMatch:
		return r.SignerCert, fmt.Errorf("%w: no signing-certificate attribute naming the TSA certificate (RFC 3161, 2.4.1)", ErrTimeStampInvalid)
	}
	if err := checkTimeStampingEKU(r.SignerCert); err != nil {
		return r.SignerCert, err
	}
	return r.SignerCert, nil
}

// checkTimeStampingEKU checks RFC 3161 2.3: the TSA certificate has one extended key usage, id-kp-timeStamping,
// in a critical extension.
func checkTimeStampingEKU(cert *x509.Certificate) error {
	critical := false
	for _, e := range cert.Extensions {
		if e.Id.Equal(oidExtKeyUsage) {
			critical = e.Critical
		}
	}
	switch {
	case !critical:
		return fmt.Errorf("%w: extended key usage absent or not critical", ErrTimeStampSigner)
	case len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping || len(cert.UnknownExtKeyUsage) != 0:
		return fmt.Errorf("%w: extended key usage is not id-kp-timeStamping alone", ErrTimeStampSigner)
	}
	return nil
}

// SignatureTimeStamp is a signature time-stamp found on a SignerInfo and what its check established.
type SignatureTimeStamp struct {
	// Token is the parsed token, nil when it does not parse.
	Token *TimeStamp
	// Time is the token's genTime (zero when Token is nil).
	Time time.Time
	// Signer is the TSA certificate that signed the token, nil when not found.
	Signer *x509.Certificate
	// Err is nil when the token is valid: it parses, its signature verifies, its signer has the critical
	// id-kp-timeStamping EKU and its imprint is the hash of the signature value. Otherwise it says why.
	Err error
}

// signatureTimeStamps checks every id-aa-signatureTimeStampToken value of si against its signature value.
func signatureTimeStamps(si *SignerInfo) []SignatureTimeStamp {
	var out []SignatureTimeStamp
	for _, a := range si.UnsignedAttributes {
		if !a.Type.Equal(oidAttrSignatureTimeStampToken) {
			continue
		}
		for _, v := range a.Values {
			out = append(out, checkSignatureTimeStamp(v, si.Signature))
		}
	}
	return out
}

// checkSignatureTimeStamp parses and verifies one token over the signature value sig.
func checkSignatureTimeStamp(der, sig []byte) SignatureTimeStamp {
	ts, err := ParseTimeStamp(der)
	if err != nil {
		return SignatureTimeStamp{Err: err}
	}
	st := SignatureTimeStamp{Token: ts, Time: ts.Info.GenTime}
	h := ts.Info.HashAlgorithm
	if h == 0 || !h.Available() {
		st.Signer, st.Err = ts.VerifySignature()
		if st.Err == nil {
			st.Err = fmt.Errorf("%w: imprint hash %v", ErrUnsupportedAlgorithm, ts.Info.HashAlgorithmOID)
		}
		return st
	}
	st.Signer, st.Err = ts.Verify(digest(h, sig), h)
	return st
}
