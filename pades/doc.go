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
// It is a pure library: no network, no files except in SignFile, no global state. It does not produce B-T/LT/LTA
// levels (no time-stamps, no DSS), does not sign encrypted files, and does not fill existing empty signature
// fields.
package pades
