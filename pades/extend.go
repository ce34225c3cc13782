package pades

import (
	"context"
	"crypto"
	"crypto/sha1" //nolint:gosec // the DSS /VRI keys are SHA-1 hashes of the signatures (ISO 32000-2 12.8.4.3)
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"

	"github.com/trustsign/trustsign/cms"
	"github.com/trustsign/trustsign/pdf"
	"github.com/trustsign/trustsign/revocation"
)

// ExtendOptions says how Extend augments the signatures of a PDF.
type ExtendOptions struct {
	// Level is the level to reach: "b-t", "b-lt" or "b-lta" (ETSI EN 319 142-1). b-t adds a document time-stamp
	// to a B-B signature; b-lt adds a DSS dictionary in an incremental update; b-lta adds the DSS and then a
	// document time-stamp (renewing the archive time-stamp is Extend with "b-lta" again).
	Level string
	// TimeStamp returns a DER RFC 3161 TimeStampToken over imprint (a digest with Hash), as SignOptions.TimeStamp.
	TimeStamp func(ctx context.Context, imprint []byte) ([]byte, error)
	// Hash is the digest for the document time-stamp (SHA-256 when zero).
	Hash crypto.Hash
	// Validation returns the certificates and revocation data to put in the DSS.
	Validation revocation.Source
	// Limits bound the reading of the input (nil: the pdf package's defaults).
	Limits *pdf.Limits
	// TimeStampReserve is the room reserved in /Contents for a document time-stamp token, in bytes
	// (DocumentTimeStampReserve when zero). A larger token fails with ErrSignatureTooLarge.
	TimeStampReserve int
}

// DocumentTimeStampReserve is ExtendOptions.TimeStampReserve's default: a token with a TSA chain of RSA-4096
// certificates and room to spare.
const DocumentTimeStampReserve = 16 << 10

// Errors returned by Extend (besides ErrEncrypted, ErrSignatureTooLarge, ErrInvalidOptions and the errors of the
// callbacks, wrapped).
var (
	// ErrNotIntact: a signature or time-stamp of the document does not verify (damaged, modified after signing,
	// or its token does not match); extending it would only seal a broken signature.
	ErrNotIntact = errors.New("pades: a signature of the document does not verify")
	// ErrNoSignature: the document has no signature to extend.
	ErrNoSignature = errors.New("pades: the document has no signature to extend")
)

// Extend writes in and incremental updates that bring its signatures to o.Level to out, leaving the signatures
// already there as they are (the updates are appended; nothing before them changes):
//
//   - "b-t": a document time-stamp (/Type /DocTimeStamp, /SubFilter /ETSI.RFC3161) when a signature has no
//     time-stamp yet (neither a signature time-stamp nor a document time-stamp after it); nothing otherwise.
//   - "b-lt": the same, then a DSS update: the catalog's /DSS gains the certificates, OCSP responses and CRLs
//     o.Validation returns for every signature's signer chain and every time-stamp's TSA chain (merged with the
//     DSS already there, each stream once), and a /VRI entry per signature keyed by the upper-case hex SHA-1 of
//     its /Contents. Signatures that already have a VRI entry are not collected again.
//   - "b-lta": "b-lt", then a document time-stamp over everything. Run again, it renews the archive time-stamp:
//     the DSS gains the last document time-stamp's validation data, and a new document time-stamp covers it.
//
// The input is read once to verify it (every signature must verify: ErrNotIntact otherwise) and once more while
// it is copied to out and hashed for the document time-stamps; only the updates are held in memory. Encrypted
// documents are refused (ErrEncrypted). On error, out may hold part of the output: discard it.
func Extend(ctx context.Context, in io.ReaderAt, size int64, out io.Writer, o ExtendOptions) error {
	// the revocation data must be issued after the time-stamps it completes, which are at most this old: a
	// cached answer from before would prove nothing about the status then (revocation.IssuedAfter)
	ctx = revocation.IssuedAfter(ctx, time.Now())
	var steps []string
	switch o.Level {
	case "b-t", "b-lt", "b-lta":
	default:
		return fmt.Errorf("%w: level %q (b-t, b-lt or b-lta)", ErrInvalidOptions, o.Level)
	}
	if o.TimeStamp == nil && o.Level != "b-lt" {
		return fmt.Errorf("%w: level %s needs a TimeStamp callback", ErrInvalidOptions, o.Level)
	}
	if o.Validation == nil && o.Level != "b-t" {
		return fmt.Errorf("%w: level %s needs a Validation source", ErrInvalidOptions, o.Level)
	}
	h := o.Hash
	if h == 0 {
		h = crypto.SHA256
	}
	if h != crypto.SHA256 && h != crypto.SHA384 && h != crypto.SHA512 {
		return fmt.Errorf("%w: hash %v (use SHA-256, SHA-384 or SHA-512)", ErrInvalidOptions, h)
	}
	res, err := Verify(ctx, in, size, VerifyOptions{Limits: o.Limits})
	if err != nil {
		return err
	}
	if res.Encrypted {
		return ErrEncrypted
	}
	if err := intact(res); err != nil {
		return err
	}
	if untimed(res) {
		if o.TimeStamp == nil {
			return fmt.Errorf("%w: a signature has no time-stamp and b-lt needs one: pass a TimeStamp callback", ErrInvalidOptions)
		}
		steps = append(steps, "timestamp")
	}
	switch o.Level {
	case "b-lt":
		steps = append(steps, "dss")
	case "b-lta":
		steps = append(steps, "dss", "timestamp")
	}
	x := &extender{o: o, h: h, res: res, in: in, size: size}
	if len(steps) == 0 {
		return copyHashed(ctx, in, size, io.Discard, out)
	}
	x.run = h.New()
	if err := copyHashed(ctx, in, size, x.run, out); err != nil {
		return err
	}
	for _, step := range steps {
		var upd []byte
		var err error
		if step == "timestamp" {
			upd, err = x.docTimeStamp(ctx)
		} else {
			upd, err = x.dss(ctx)
		}
		if err != nil {
			return err
		}
		if len(upd) == 0 {
			continue
		}
		x.run.Write(upd)
		x.tail = append(x.tail, upd...)
		if _, err := out.Write(upd); err != nil {
			return fmt.Errorf("pades: writing: %w", err)
		}
	}
	return nil
}

// intact checks that every signature and time-stamp of the document verifies (cryptographically and
// structurally, nothing modified after it); trust in the certificates is not judged here.
func intact(res *Result) error {
	if len(res.Signatures) == 0 {
		return ErrNoSignature
	}
	for _, s := range res.Signatures {
		name := s.FieldName
		if name == "" {
			name = fmt.Sprintf("object %d", s.Object)
		}
		fail := func(why string) error { return fmt.Errorf("%w: %s: %s", ErrNotIntact, name, why) }
		if len(s.Problems) > 0 {
			return fail(s.Problems[0])
		}
		if s.Modified {
			for _, c := range s.Changes {
				if !c.Allowed || c.Kind == ChangeSignatureDict {
					return fail(fmt.Sprintf("revision %d: %s (%s)", c.Revision, c.Kind, c.Detail))
				}
			}
			return fail("modified after signing")
		}
		if s.SubFilter == "ETSI.RFC3161" {
			switch {
			case s.DocumentTimeStamp == nil:
				return fail("the document time-stamp cannot be read")
			case s.DocumentTimeStamp.Err != nil:
				return fail(s.DocumentTimeStamp.Err.Error())
			}
			continue
		}
		if s.CMSErr != nil {
			return fail(s.CMSErr.Error())
		}
		if len(s.CMSResults) == 0 {
			return fail("the signature could not be checked")
		}
		for _, r := range s.CMSResults {
			if p := r.Problems(); len(p) > 0 {
				return fail(strings.Join(p, "; "))
			}
			for _, st := range r.TimeStamps {
				if st.Err != nil {
					return fail("signature time-stamp: " + st.Err.Error())
				}
			}
		}
	}
	return nil
}

// untimed reports whether a signature has no time-stamp: neither a valid signature time-stamp nor a document
// time-stamp over its revision.
func untimed(res *Result) bool {
	lastDocTS := 0
	for _, s := range res.Signatures {
		if s.SubFilter == "ETSI.RFC3161" && s.DocumentTimeStamp != nil && s.DocumentTimeStamp.Err == nil {
			lastDocTS = max(lastDocTS, s.CoveredRevision)
		}
	}
	for _, s := range res.Signatures {
		if s.SubFilter == "ETSI.RFC3161" || s.CoveredRevision <= lastDocTS {
			continue
		}
		stamped := false
		for _, r := range s.CMSResults {
			for _, st := range r.TimeStamps {
				stamped = stamped || st.Err == nil
			}
		}
		if !stamped {
			return true
		}
	}
	return false
}

// extender carries the state of one Extend: the input, the updates appended so far and the running hash of
// everything written.
type extender struct {
	o    ExtendOptions
	h    crypto.Hash
	res  *Result
	in   io.ReaderAt
	size int64
	tail []byte    // the updates written after the input
	run  hash.Hash // the hash of in and tail
	// stamped are the document time-stamps this Extend added, for the DSS that follows them.
	stamped []vriTarget
}

// reader opens the document as written so far.
func (x *extender) reader() (*pdf.Reader, error) {
	cur := &appended{in: x.in, size: x.size, tail: x.tail}
	r, err := pdf.Open(cur, cur.Size(), x.o.Limits)
	if err != nil {
		return nil, fmt.Errorf("pades: reading the PDF: %w", err)
	}
	return r, nil
}

// docTimeStamp returns an update adding a document time-stamp over everything written so far and itself.
func (x *extender) docTimeStamp(ctx context.Context) ([]byte, error) {
	r, err := x.reader()
	if err != nil {
		return nil, err
	}
	reserve := x.o.TimeStampReserve
	if reserve <= 0 {
		reserve = DocumentTimeStampReserve
	}
	pl, err := prepareDocTimeStamp(r, reserve)
	if err != nil {
		return nil, err
	}
	upd := pl.update
	hh, err := cloneHash(x.run)
	if err != nil {
		return nil, err
	}
	hh.Write(upd[:pl.gapStart])
	hh.Write(upd[pl.gapEnd:])
	digest := hh.Sum(nil)
	der, err := x.o.TimeStamp(ctx, digest)
	if err != nil {
		return nil, fmt.Errorf("pades: document time-stamp: %w", err)
	}
	ts, err := cms.ParseTimeStamp(der)
	if err != nil {
		return nil, fmt.Errorf("pades: document time-stamp: %w", err)
	}
	signer, err := ts.Verify(digest, x.h)
	if err != nil {
		return nil, fmt.Errorf("pades: document time-stamp: %w", err)
	}
	if 2*len(der) > pl.gapEnd-pl.gapStart-2 {
		return nil, fmt.Errorf("%w: document time-stamp of %d bytes, %d reserved", ErrSignatureTooLarge, len(der), (pl.gapEnd-pl.gapStart-2)/2)
	}
	hex.Encode(upd[pl.gapStart+1:], der)
	contents := make([]byte, (pl.gapEnd-pl.gapStart-2)/2)
	copy(contents, der)
	x.stamped = append(x.stamped, vriTarget{contents: contents, chains: [][]*x509.Certificate{chainOf(signer, ts.SignedData.Certificates)}})
	return upd, ctx.Err()
}

// vriTarget is one signature dictionary whose validation data goes in the DSS: its /Contents (the VRI key is
// their SHA-1) and the certificate chains to collect data for (the signer's, each time-stamp's TSA's).
type vriTarget struct {
	contents []byte
	chains   [][]*x509.Certificate
}

// chainOf returns leaf followed by the other certificates of certs.
func chainOf(leaf *x509.Certificate, certs []*x509.Certificate) []*x509.Certificate {
	out := []*x509.Certificate{leaf}
	for _, c := range certs {
		if !c.Equal(leaf) {
			out = append(out, c)
		}
	}
	return out
}

// targets lists the signatures and time-stamps of the input and those Extend added.
func (x *extender) targets() []vriTarget {
	var out []vriTarget
	for _, s := range x.res.Signatures {
		t := vriTarget{contents: s.Contents}
		if s.DocumentTimeStamp != nil && s.DocumentTimeStamp.Signer != nil {
			t.chains = append(t.chains, chainOf(s.DocumentTimeStamp.Signer, s.DocumentTimeStamp.Token.SignedData.Certificates))
		}
		for _, r := range s.CMSResults {
			if r.SignerCert != nil {
				t.chains = append(t.chains, chainOf(r.SignerCert, s.CMS.Certificates))
			}
			for _, st := range r.TimeStamps {
				if st.Err == nil && st.Signer != nil {
					t.chains = append(t.chains, chainOf(st.Signer, st.Token.SignedData.Certificates))
				}
			}
		}
		if len(t.chains) > 0 {
			out = append(out, t)
		}
	}
	return append(out, x.stamped...)
}

// dss returns an update adding the validation data of every target without a VRI entry to the DSS (nil when
// there is none to add).
func (x *extender) dss(ctx context.Context) ([]byte, error) {
	r, err := x.reader()
	if err != nil {
		return nil, err
	}
	d, err := openDSS(r)
	if err != nil {
		return nil, err
	}
	var vris []vriData
	for _, t := range x.targets() {
		key := vriKeyOf(t.contents)
		if d.hasVRI(key) {
			continue
		}
		v := vriData{key: key}
		for _, chain := range t.chains {
			data, err := x.o.Validation(ctx, chain)
			if err != nil {
				return nil, fmt.Errorf("pades: validation data for %s: %w", chain[0].Subject, err)
			}
			v.data.Certificates = append(v.data.Certificates, chain...)
			v.data.Certificates = append(v.data.Certificates, data.Certificates...)
			v.data.OCSP = append(v.data.OCSP, data.OCSP...)
			v.data.CRLs = append(v.data.CRLs, data.CRLs...)
		}
		vris = append(vris, v)
	}
	if len(vris) == 0 {
		return nil, nil
	}
	return d.update(vris)
}

// vriKeyOf is the DSS /VRI key of a signature: the upper-case hex SHA-1 of its /Contents.
func vriKeyOf(contents []byte) pdf.Name {
	sum := sha1.Sum(contents) //nolint:gosec // the key PAdES defines
	return pdf.Name(strings.ToUpper(hex.EncodeToString(sum[:])))
}

// contentKey names a DSS stream by the SHA-256 of its decoded data, to store each once.
func contentKey(b []byte) [32]byte { return sha256.Sum256(b) }

// appended is the input followed by the updates written so far, as one io.ReaderAt.
type appended struct {
	in   io.ReaderAt
	size int64
	tail []byte
}

func (a *appended) Size() int64 { return a.size + int64(len(a.tail)) }

func (a *appended) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	if off < a.size {
		k := min(int64(len(p)), a.size-off)
		m, err := a.in.ReadAt(p[:k], off)
		n += m
		if int64(m) < k {
			return n, err
		}
		p, off = p[k:], off+k
	}
	if len(p) == 0 {
		return n, nil
	}
	i := off - a.size
	if i >= int64(len(a.tail)) {
		return n, io.EOF
	}
	m := copy(p, a.tail[i:])
	n += m
	if m < len(p) {
		return n, io.EOF
	}
	return n, nil
}
