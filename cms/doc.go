// Package cms is CMS SignedData (RFC 5652) as used in PDF signatures, PAdES/CAdES baseline; detached content only;
// not a general ASN.1 library.
//
// SignDetached and SignDetachedReader make a DER ContentInfo holding one SignerInfo over a content digest computed
// by the caller (for a PDF: the digest of the ByteRange). With SignOptions.PAdES the signed attributes are exactly
// contentType, messageDigest and signingCertificateV2, the PAdES baseline B-B shape.
//
// Parse reads a SignedData as found in a PDF /Contents string: DER, trailing zero padding (reported, not an error)
// and the indefinite-length BER some signers produce. It rejects what it cannot read unambiguously (several
// SignerInfos, anything but SignedData, trailing bytes that are not padding, absurd sizes or nesting) with errors
// that wrap the sentinel errors of this package. SignedData.Verify then checks the signature against a content
// digest supplied through a callback and returns facts (Result), not a verdict: the validation policy (trust
// anchors, chain building, accepted algorithms, time) belongs to the caller.
//
// The package does not build certificate chains, check revocation or time-stamps, or handle enveloped content,
// EnvelopedData, or any content type other than id-data.
package cms
