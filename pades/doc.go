// Package pades makes and checks PAdES signatures in PDF files, in the shape Poland's trusted signature (podpis
// zaufany) uses: an incremental update with /SubFilter /ETSI.CAdES.detached, a CMS SignedData with exactly the
// PAdES baseline B-B signed attributes, the trusted-profile identity bound in the covered /Name and /Reason, and
// an optional visible stamp drawn with an embedded font that covers Polish letters.
//
// Sign streams the input once (hashing and copying at the same time) and holds only the update in memory, so a
// 100 MB file costs about as much time as hashing it. Verify returns facts per signature: ByteRange shape and
// coverage, the signed revision, the signature dictionary as signed, the CMS checks, DocMDP permissions and a
// classification of every change later revisions made. Turning facts into a verdict (trust roots, policy,
// indications) is the verify package's job.
//
// Changes after a signature are judged the way DocMDP (P=1/2/3, none) and FieldMDP locks say: new signatures,
// validation data (DSS), form filling and annotations may be allowed; anything that touches page content, the page
// tree, a signed signature dictionary or other parts of the catalog is not, and neither are bytes after the last
// %%EOF. An object used in several places (an appearance stream that is also page content) must be allowed in
// all of them.
//
// SignOptions.TimeStamp makes B-T: a callback (an RFC 3161 client, which this package does not contain) returns
// a token over the signature value, embedded as the unsigned attribute id-aa-signatureTimeStampToken inside
// /Contents (TimeStampReserve more bytes are reserved). Verify checks signature time-stamps (CMSResult.TimeStamps)
// and document time-stamps (/SubFilter /ETSI.RFC3161: Signature.DocumentTimeStamp, imprint over the ByteRange).
//
// Extend brings the signatures of a PDF, ours or anyone's, to B-T, B-LT or B-LTA (ETSI EN 319 142-1) with
// incremental updates appended after the input: a document time-stamp (/Type /DocTimeStamp, /SubFilter
// /ETSI.RFC3161, the token over the ByteRange) and a DSS update (ISO 32000-2 12.8.4.3: /Certs, /OCSPs, /CRLs,
// merged with the DSS already there, each stream once, and a /VRI entry per signature). It refuses a file whose
// signatures do not verify. The time-stamps and the validation data come from callbacks (an RFC 3161 client, a
// revocation.Source); nothing here goes to the network. Verify reads the DSS back (Result.DSS, and per signature
// the data of later revisions, Signature.Validation); the change analysis allows a revision that only adds
// validation data or only a document time-stamp, even under DocMDP P=1, and refuses anything riding along with
// a document time-stamp. Verify hashes the ByteRanges of all signatures in one pass over the file (they share
// their prefix), so a B-LTA file costs one read however many time-stamps it holds.
//
// It is a pure library: no network, no files except in SignFile, no global state. It does not sign encrypted
// files, and does not fill existing empty signature fields. Verify does check adbe.pkcs7.sha1
// signatures (the CMS encapsulates the SHA-1 digest of the ByteRange: Signature.EncapsulatedDigestOK) and every
// SignerInfo of a CMS with several (Signature.CMSResults).
//
// digitorus/pdfsign is not used in the product: it reads and writes whole documents in memory (about 690 MB of
// allocations and 1.2 s to sign a 100 MB file, against about 1 MB and 0.07 s here, see pades/bench), and its
// verifier rejects the PKCS#1 DigestInfo form real trusted-profile seals use. The tests cross-check with it.
package pades
