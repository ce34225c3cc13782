// Package cms is CMS SignedData (RFC 5652) as used in PDF signatures, PAdES/CAdES baseline: it signs detached
// content and verifies detached or (adbe.pkcs7.sha1) encapsulated content; it is not a general ASN.1 library.
//
// SignDetached and SignDetachedReader make a DER ContentInfo holding one SignerInfo over a content digest computed
// by the caller (for a PDF: the digest of the ByteRange). With SignOptions.PAdES the signed attributes are exactly
// contentType, messageDigest and signingCertificateV2, the PAdES baseline B-B shape.
//
// Parse reads a SignedData as found in a PDF /Contents string: DER, trailing zero padding (reported, not an error)
// and the indefinite-length BER some signers produce. It reads every SignerInfo (each is a signature over the same
// content) and encapsulated content (adbe.pkcs7.sha1 encapsulates the document's SHA-1 digest), and rejects what it
// cannot read unambiguously (anything but SignedData, trailing bytes that are not padding, absurd sizes or nesting)
// with errors that wrap the sentinel errors of this package. VerifyDetached (content streamed through a writer),
// VerifyEncapsulated and Verify (first signer, content digest through a callback) then return facts (Result), not
// a verdict: the validation policy (trust anchors, chain building, accepted algorithms, time) belongs to the
// caller.
//
// Algorithms: RSA PKCS#1 v1.5 and RSASSA-PSS, ECDSA (DER and BSI TR-03111 plain r||s) on the NIST and Brainpool
// curves, Ed25519 and Ed448 (RFC 8419); SHA-1/2 digests and SHAKE256 for Ed448. Anything else is reported as
// unsupported (Result.UnsupportedAlgorithm), never as a signature that does not verify. Certificates crypto/x509
// cannot read because of their key (Brainpool, other named curves, Ed448) are still read.
//
// ParseTimeStamp reads an RFC 3161 TimeStampToken (a SignedData encapsulating id-ct-TSTInfo) and TimeStamp.Verify
// checks its signature with the same verifier, its signer's critical id-kp-timeStamping EKU and its message imprint.
//
// The package does not build certificate chains, check revocation, or handle enveloped content, EnvelopedData, or
// content types other than id-data (and id-ct-TSTInfo in time-stamp tokens).
package cms
