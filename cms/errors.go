package cms

import "errors"

// Errors returned by Parse, SignDetached and (in Result.SignatureErr) Verify. Returned errors wrap one of these
// and add a detail for logs; compare with errors.Is.
var (
	// ErrMalformed reports input that is not a well-formed SignedData (bad encoding, missing or extra fields,
	// truncation).
	ErrMalformed = errors.New("cms: malformed SignedData")
	// ErrTooLarge reports input beyond the package's limits: size, nesting, element counts or length fields.
	ErrTooLarge = errors.New("cms: input exceeds limits")
	// ErrTrailingData reports bytes other than zero padding after the ContentInfo.
	ErrTrailingData = errors.New("cms: trailing data after ContentInfo")
	// ErrNotSignedData reports a ContentInfo whose content type is not id-signedData.
	ErrNotSignedData = errors.New("cms: not a SignedData")
	// ErrNotDetached reports a SignedData that encapsulates its content where detached content was expected
	// (VerifyDetached, Verify).
	ErrNotDetached = errors.New("cms: encapsulated content present (not detached)")
	// ErrNotEncapsulated reports a detached SignedData where encapsulated content was expected
	// (VerifyEncapsulated).
	ErrNotEncapsulated = errors.New("cms: no encapsulated content (detached)")
	// ErrNoSignerInfo reports a SignedData without any SignerInfo.
	ErrNoSignerInfo = errors.New("cms: no SignerInfo")
	// ErrDuplicateAttribute reports a signed attribute that must occur once (content type, message digest, signing
	// time, signing certificate) occurring several times or with several values.
	ErrDuplicateAttribute = errors.New("cms: duplicate or multi-valued signed attribute")
	// ErrUnsupportedAlgorithm reports a digest or signature algorithm, a key type or an elliptic curve this package
	// does not implement. Result.UnsupportedAlgorithm names it.
	ErrUnsupportedAlgorithm = errors.New("cms: unsupported algorithm")
	// ErrAlgorithmMismatch reports a signature algorithm that contradicts the digest algorithm or the key type.
	ErrAlgorithmMismatch = errors.New("cms: signature algorithm does not match digest algorithm or key")
	// ErrNoSigningCertificate reports that no certificate in the SignedData matches the SignerInfo's sid.
	ErrNoSigningCertificate = errors.New("cms: signing certificate not found")
	// ErrAmbiguousSigner reports several different certificates matching the SignerInfo's sid.
	ErrAmbiguousSigner = errors.New("cms: several certificates match the signer identifier")
	// ErrSignatureInvalid reports a signature value that does not verify with the signer's public key.
	ErrSignatureInvalid = errors.New("cms: signature does not verify")
	// ErrInvalidOptions reports unusable SignOptions or a content digest of the wrong size.
	ErrInvalidOptions = errors.New("cms: invalid signing options")
	// ErrKeyMismatch reports a Signer whose public key is not the Certificate's.
	ErrKeyMismatch = errors.New("cms: signer key does not match certificate")
)
