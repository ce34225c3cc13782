package pades

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/trustsign/trustsign/cms"
	"github.com/trustsign/trustsign/pdf"
	"github.com/trustsign/trustsign/revocation"
)

// VerifyOptions configures Verify.
type VerifyOptions struct {
	// Limits bounds the parser; nil means pdf's defaults.
	Limits *pdf.Limits
	// MaxSignatures bounds the signatures checked in one file (default 64): each costs a pass over its byte
	// ranges and up to 8 signer checks, so a file of thousands of signature fields could otherwise take minutes.
	// The others are reported as one signature with a problem, so the file cannot pass.
	MaxSignatures int
}

// DefaultMaxSignatures is VerifyOptions.MaxSignatures' default.
const DefaultMaxSignatures = 64

// Result is what Verify found in a file: facts, not a verdict.
type Result struct {
	// Size is the file size.
	Size int64
	// Revisions lists the document's revisions, oldest first.
	Revisions []RevisionInfo
	// TrailingBytes counts bytes after the last revision's %%EOF (and its end-of-line marker).
	TrailingBytes int64
	// Signatures lists the signatures found, in the order of the revisions they cover.
	Signatures []*Signature
	// DocMDP is the P of the document's certification signature (1, 2 or 3), 0 when there is none.
	DocMDP int
	// Encrypted tells that the document is encrypted (with the empty user password: it was read decrypted).
	Encrypted bool
	// DSS is the document security store of the newest revision, nil when there is none.
	DSS *DSS
}

// RevisionInfo describes one revision.
type RevisionInfo struct {
	Number     int
	Start, End int64
	// Xref is "table" or "stream".
	Xref string
}

// Signature is the facts about one signature.
type Signature struct {
	// FieldName is the signature field's (fully qualified) name.
	FieldName string
	// Object is the signature dictionary's object number.
	Object uint32
	// Revision is the revision that added the signature dictionary.
	Revision int

	// Type is the dictionary's /Type ("Sig", "DocTimeStamp", or empty), Filter and SubFilter its entries.
	Type, Filter, SubFilter string
	// ByteRange is the /ByteRange as found (nil if missing or not an array of integers).
	ByteRange []int64
	// ByteRangeShapeOK: four integers [0 a b c] with 0 < a < b and c >= 0.
	ByteRangeShapeOK bool
	// GapIsContents: the gap [a, b) is exactly this dictionary's /Contents hex string, delimiters included.
	GapIsContents bool
	// InsideFile: both ranges lie inside the file.
	InsideFile bool
	// CoveredRevision is the revision whose end (%%EOF, optionally with its end-of-line) the ByteRange reaches; 0
	// when it reaches no revision's end.
	CoveredRevision int
	// CoversWholeFile: the ByteRange reaches the end of the file.
	CoversWholeFile bool
	// Problems lists structural problems, one fixed sentence each.
	Problems []string

	// M is the /M signing time (nil if absent or unparsable); MRaw is the text as found.
	M    *time.Time
	MRaw string
	// Name, Reason, Location and ContactInfo are the dictionary's text entries, as signed.
	Name, Reason, Location, ContactInfo string
	// Profile is the trusted-profile identity read from Reason, nil when Reason is not in that form.
	Profile *Profile

	// Contents is the /Contents string (the CMS, usually zero-padded).
	Contents []byte
	// ContentsPaddingEncrypted: in an encrypted document, the bytes of /Contents after the CMS were the zero
	// placeholder encrypted by the signer (PDFBox does this), not data; Contents holds zeros there instead.
	ContentsPaddingEncrypted bool
	// CMS is the parsed SignedData; nil when CMSErr is set.
	CMS *cms.SignedData
	// CMSErr is why /Contents could not be parsed.
	CMSErr error
	// CMSResult holds the cryptographic facts of the first SignerInfo (CMSResults[0]); nil when CMS is nil or
	// the ranges could not be hashed.
	CMSResult *cms.Result
	// CMSResults holds the facts of every SignerInfo, in the order of CMS.SignerInfos: a CMS with several
	// SignerInfos is several signatures over the same ByteRange.
	CMSResults []*cms.Result
	// EncapsulatedDigestOK: for SubFilter adbe.pkcs7.sha1, the CMS encapsulates exactly the SHA-1 digest of the
	// ByteRange (what the SignerInfos then sign).
	EncapsulatedDigestOK bool
	// DocumentTimeStamp is the check of a document time-stamp (/SubFilter /ETSI.RFC3161): its token parsed from
	// /Contents, verified (signature, critical id-kp-timeStamping EKU) and its imprint compared with the hash of
	// the ByteRange. Nil for other signatures. CMSResult is nil for a document time-stamp; the signature
	// time-stamps of a CAdES signature are in CMSResult.TimeStamps.
	DocumentTimeStamp *cms.SignatureTimeStamp
	// Digest is the digest of the ByteRange under the first SignerInfo's digest algorithm (for adbe.pkcs7.sha1:
	// its SHA-1 digest; for a document time-stamp: under the token's imprint hash).
	Digest []byte
	// signed is what was digested: the file's ByteRange ranges (set when Digest is).
	signed *signedRanges

	// Certification: this is the document's certification signature (/Perms /DocMDP points to it); DocMDP is its
	// P.
	Certification bool
	DocMDP        int
	// EffectiveDocMDP is the DocMDP P that applies to changes after this signature (from a certification
	// signature at or before it), 0 if none.
	EffectiveDocMDP int
	// FieldLock is the signature's FieldMDP transform (fields that may not change after it), nil if none.
	FieldLock *FieldLock

	// DictionaryRewritten: a later revision replaced this signature dictionary with different content.
	DictionaryRewritten bool
	// Changes lists what the revisions after CoveredRevision did.
	Changes []Change
	// Modified: a change not allowed, a rewritten dictionary, or unsigned bytes after the signed revision.
	Modified bool

	// Validation is the DSS validation data a verifier may use for this signature (PAdES B-LT): the data its
	// /VRI entry names (keyed by the SHA-1 of its /Contents), then the DSS's other OCSP responses and CRLs, with
	// every certificate of the DSS, when it has one; else all of Result.DSS.Data. Empty when that data was all
	// written in or before the revision this signature covers.
	Validation revocation.Data
	// ValidationRevision is the newest revision that wrote the streams its VRI entry names (without one, all of
	// Validation; 0 when it is empty): a document time-stamp covering that revision proves the first
	// ValidationDatedOCSP responses and ValidationDatedCRLs CRLs of Validation (those the entry names) existed at
	// its time; the DSS's other answers may be newer.
	ValidationRevision                       int
	ValidationDatedOCSP, ValidationDatedCRLs int
}

// FieldLock is a FieldMDP transform: Action "All" locks every field, "Include" the named ones, "Exclude" all but
// the named ones.
type FieldLock struct {
	Action string
	Fields []string
}

// Locks reports whether the field with the given fully qualified name is locked (a field under a locked name is
// locked too).
func (l *FieldLock) Locks(field string) bool {
	if l == nil || field == "" {
		return false
	}
	named := false
	for _, f := range l.Fields {
		if field == f || strings.HasPrefix(field, f+".") {
			named = true
			break
		}
	}
	switch l.Action {
	case "All":
		return true
	case "Include":
		return named
	case "Exclude":
		return !named
	}
	return true // an unknown action locks everything
}

// fieldLockOf reads the FieldMDP transform of a signature dictionary.
func fieldLockOf(v pdf.View, sd pdf.Dict) *FieldLock {
	refs, err := v.Resolve(sd["Reference"])
	if err != nil {
		return nil
	}
	arr, _ := refs.(pdf.Array)
	for _, e := range arr {
		d, err := v.Dict(e)
		if err != nil || d == nil {
			continue
		}
		if m, _ := d.Name("TransformMethod"); m != "FieldMDP" {
			continue
		}
		l := &FieldLock{Action: "All"}
		tp, _ := v.Dict(d["TransformParams"])
		if tp != nil {
			if a, ok := tp.Name("Action"); ok {
				l.Action = string(a)
			}
			if fo, err := v.Resolve(tp["Fields"]); err == nil {
				fa, _ := fo.(pdf.Array)
				for _, f := range fa {
					if x, err := v.Resolve(f); err == nil {
						l.Fields = append(l.Fields, pdf.Text(x))
					}
				}
			}
		}
		return l
	}
	return nil
}

// ChangeKind classifies what a later revision did.
type ChangeKind string

// Change kinds.
const (
	ChangeSignature     ChangeKind = "signature"
	ChangeDSS           ChangeKind = "dss"
	ChangeFormFill      ChangeKind = "form-fill"
	ChangeAnnotation    ChangeKind = "annotation"
	ChangePageContent   ChangeKind = "page-content"
	ChangePageAdded     ChangeKind = "page-added"
	ChangeSignatureDict ChangeKind = "signature-dictionary"
	ChangeUnsignedBytes ChangeKind = "unsigned-bytes"
	ChangeOther         ChangeKind = "other"
)

// Change is one kind of change one revision made after a signature.
type Change struct {
	Revision int
	Kind     ChangeKind
	Allowed  bool
	Detail   string
}

// ErrNoPDF wraps failures to read the file as a PDF at all.
var ErrNoPDF = errors.New("pades: cannot read the file as a PDF")

// Verify reads the PDF in (size bytes) and reports the facts about every signature: structure, coverage, the
// signed dictionary, the CMS checks against the streamed digest of the ByteRange, DocMDP and the changes made
// after each signature. It returns an error only when the file cannot be read as a PDF (wrapping ErrNoPDF and the
// pdf package's error) or is encrypted in a way it cannot decrypt (ErrEncrypted, wrapping pdf.ErrUserPassword or
// pdf.ErrUnsupportedEncryption); a file without signatures gives a Result with none. A document encrypted with the
// empty user password is verified: the signed bytes are the file's bytes, and the change analysis compares the
// decrypted objects.
func Verify(ctx context.Context, in io.ReaderAt, size int64, opts VerifyOptions) (*Result, error) {
	r, err := pdf.Open(in, size, opts.Limits)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoPDF, err)
	}
	// An encrypted document is read decrypted (standard security handler, empty user password); one that needs
	// another password or handler cannot be verified.
	if err := r.DecryptErr(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEncrypted, err)
	}
	res := &Result{Size: size, Encrypted: r.Encrypted()}
	revs := r.Revisions()
	for _, rv := range revs {
		res.Revisions = append(res.Revisions, RevisionInfo{Number: rv.Number, Start: rv.Start, End: rv.End, Xref: rv.Kind.String()})
	}
	if last := revs[len(revs)-1]; last.End >= 0 && last.End < size {
		res.TrailingBytes = size - last.End
	}
	found, err := findSignatures(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoPDF, err)
	}
	cl := newClassifier(r)
	maxSigs := opts.MaxSignatures
	if maxSigs <= 0 {
		maxSigs = DefaultMaxSignatures
	}
	var all []checked
	var over *Signature
	for i, f := range found {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if i == maxSigs {
			over = &Signature{FieldName: f.name, Object: f.ref.Num, Revision: f.first}
			over.problem(fmt.Sprintf("%d signatures in one file, more than the limit of %d: the others are not checked", len(found), maxSigs))
			break
		}
		all = append(all, checkSignature(r, in, f))
	}
	// The digests of every ByteRange in one pass over the file (digest.go); a failed pass leaves each signature
	// to hash its own ranges and report the failure.
	var reqs []digestKey
	for _, c := range all {
		reqs = append(reqs, c.digestRequests()...)
	}
	digests, err := rangeDigests(ctx, in, reqs)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		digests = nil
	}
	for i, f := range found[:len(all)] {
		c := all[i]
		c.checkCrypto(in, digests)
		s := c
		if sd, ok := s.signed.(pdf.Dict); ok && s.CoveredRevision > 0 {
			s.FieldLock = fieldLockOf(r.At(s.CoveredRevision), sd)
		}
		// A certification signature is named by /Perms /DocMDP in the catalog of the revision it signed (a later
		// revision removing /Perms does not undo it; that change is reported on its own).
		if s.CoveredRevision > 0 {
			v := r.At(s.CoveredRevision)
			if cat, _, err := v.Catalog(); err == nil {
				if perms, err := v.Dict(cat["Perms"]); err == nil && perms != nil && perms["DocMDP"] == f.ref {
					s.Certification = true
					if sd, ok := s.signed.(pdf.Dict); ok {
						s.DocMDP = docMDPOf(v, sd)
					}
					if s.DocMDP == 0 {
						s.DocMDP = 2
					}
					res.DocMDP = s.DocMDP
				}
			}
		}
		res.Signatures = append(res.Signatures, s.Signature)
	}
	if over != nil {
		res.Signatures = append(res.Signatures, over)
	}
	sort.SliceStable(res.Signatures, func(i, j int) bool {
		a, b := res.Signatures[i], res.Signatures[j]
		ka, kb := a.CoveredRevision, b.CoveredRevision
		if ka == 0 {
			ka = a.Revision
		}
		if kb == 0 {
			kb = b.Revision
		}
		return ka < kb
	})
	res.DSS = readDSS(r)
	for _, s := range res.Signatures {
		s.Validation, s.ValidationRevision, s.ValidationDatedOCSP, s.ValidationDatedCRLs = res.DSS.forSignature(s.Contents, s.CoveredRevision)
	}
	// Effective DocMDP and changes.
	certRev := 0
	for _, s := range res.Signatures {
		if s.Certification {
			certRev = max(s.CoveredRevision, s.Revision)
		}
	}
	for _, s := range res.Signatures {
		if res.DocMDP > 0 && certRev > 0 && max(s.CoveredRevision, s.Revision) >= certRev {
			s.EffectiveDocMDP = res.DocMDP
		}
		if s.CoveredRevision > 0 {
			changes, err := cl.changesAfter(ctx, s.CoveredRevision, s.EffectiveDocMDP, s.FieldLock)
			if err != nil {
				s.Problems = append(s.Problems, "the revisions after the signature could not be analysed: "+err.Error())
				s.Modified = true
			}
			s.Changes = append(s.Changes, changes...)
			if res.TrailingBytes > 0 {
				s.Changes = append(s.Changes, Change{Revision: len(revs), Kind: ChangeUnsignedBytes, Allowed: false,
					Detail: fmt.Sprintf("%d bytes after the end of the last revision", res.TrailingBytes)})
			}
		}
		if s.DictionaryRewritten {
			s.Modified = true
		}
		for _, c := range s.Changes {
			if !c.Allowed {
				s.Modified = true
			}
		}
	}
	return res, nil
}

// foundSig is a signature field pointing to a signature dictionary.
type foundSig struct {
	ref   pdf.Ref
	name  string
	first int // first revision in which the field names it
}

// findSignatures collects the signature dictionaries named by signature fields in every revision (a field
// removed later still counts: its signature is verified and the removal reported).
func findSignatures(r *pdf.Reader) ([]foundSig, error) {
	var out []foundSig
	idx := map[pdf.Ref]int{}
	for _, rv := range r.Revisions() {
		v := r.At(rv.Number)
		cat, _, err := v.Catalog()
		if err != nil {
			if rv.Number == len(r.Revisions()) {
				return nil, err
			}
			continue
		}
		af, err := v.Dict(cat["AcroForm"])
		if err != nil || af == nil {
			continue
		}
		fo, err := v.Resolve(af["Fields"])
		if err != nil {
			continue
		}
		fields, _ := fo.(pdf.Array)
		seen := map[pdf.Ref]bool{}
		var walk func(o pdf.Object, prefix string, ft pdf.Name, depth int)
		walk = func(o pdf.Object, prefix string, ft pdf.Name, depth int) {
			if depth > 32 || len(seen) > 100000 {
				return
			}
			if ref, ok := o.(pdf.Ref); ok {
				if seen[ref] {
					return
				}
				seen[ref] = true
			}
			d, err := v.Dict(o)
			if err != nil || d == nil {
				return
			}
			name := prefix
			if t := pdf.Text(d["T"]); t != "" {
				if name != "" {
					name += "."
				}
				name += t
			}
			if n, ok := d.Name("FT"); ok {
				ft = n
			}
			if ft == "Sig" {
				if ref, ok := d["V"].(pdf.Ref); ok {
					if i, ok := idx[ref]; ok {
						out[i].name = name
					} else {
						idx[ref] = len(out)
						out = append(out, foundSig{ref: ref, name: name, first: rv.Number})
					}
				}
			}
			if kids, err := v.Resolve(d["Kids"]); err == nil {
				if ka, ok := kids.(pdf.Array); ok {
					for _, k := range ka {
						walk(k, name, ft, depth+1)
					}
				}
			}
		}
		for _, f := range fields {
			walk(f, "", "", 0)
		}
	}
	return out, nil
}

// checked carries a Signature and the signed dictionary it was read from.
type checked struct {
	*Signature
	signed pdf.Object
}

func (s *Signature) problem(p string) { s.Problems = append(s.Problems, p) }

// checkSignature establishes the facts about one signature dictionary.
func checkSignature(r *pdf.Reader, in io.ReaderAt, f foundSig) checked {
	s := &Signature{FieldName: f.name, Object: f.ref.Num, Revision: f.first}
	c := checked{Signature: s}
	revs := r.Revisions()
	latestObj, err := r.Latest().Get(f.ref)
	if err != nil {
		s.problem("the signature dictionary cannot be read: " + err.Error())
		return c
	}
	// The first revision holding the dictionary.
	for _, rv := range revs {
		if o, err := r.At(rv.Number).Get(f.ref); err == nil && o != nil {
			s.Revision = rv.Number
			break
		}
	}
	latest, ok := latestObj.(pdf.Dict)
	if !ok {
		// The field may name a dictionary that a later revision deleted; fall back to the first version.
		if o, err := r.At(s.Revision).Get(f.ref); err == nil {
			latest, ok = o.(pdf.Dict)
		}
		if !ok {
			s.problem("the signature value is not a dictionary")
			return c
		}
	}
	// Locate the signed version: the one in the revision its ByteRange reaches. Try the latest version's
	// ByteRange, then the first version's (a later rewrite may have changed it).
	signed := latest
	candidates := []pdf.Dict{latest}
	if o, err := r.At(s.Revision).Get(f.ref); err == nil {
		if d, ok := o.(pdf.Dict); ok {
			candidates = append(candidates, d)
		}
	}
	for _, cand := range candidates {
		br := byteRange(cand["ByteRange"])
		if len(br) != 4 {
			continue
		}
		end := br[2] + br[3]
		for _, rv := range revs {
			if rv.End >= 0 && (end == rv.End || end == rv.EOF+5) {
				s.CoveredRevision = rv.Number
				break
			}
		}
		if s.CoveredRevision > 0 {
			o, err := r.At(s.CoveredRevision).Get(f.ref)
			if d, ok := o.(pdf.Dict); err == nil && ok {
				signed = d
			} else {
				s.CoveredRevision = 0
				continue
			}
			break
		}
	}
	// Any later version that differs from the signed one rewrites the dictionary.
	from := max(s.CoveredRevision, s.Revision)
	for k := from + 1; k <= len(revs); k++ {
		o, err := r.At(k).Get(f.ref)
		if err != nil || o == nil {
			s.DictionaryRewritten = true
			s.Changes = append(s.Changes, Change{Revision: k, Kind: ChangeSignatureDict, Detail: "signature dictionary deleted or unreadable"})
			break
		}
		if !pdf.Equal(o, signed) {
			s.DictionaryRewritten = true
			d, _ := o.(pdf.Dict)
			s.Changes = append(s.Changes, Change{Revision: k, Kind: ChangeSignatureDict,
				Detail: "signature dictionary rewritten after signing: " + keyList(pdf.DiffKeys(signed, d))})
			break
		}
	}
	c.signed = signed
	readDictionary(s, signed)
	br := byteRange(signed["ByteRange"])
	s.ByteRange = br
	size := r.Size()
	switch {
	case signed["ByteRange"] == nil:
		s.problem("/ByteRange is missing")
	case br == nil:
		s.problem("/ByteRange is not an array of integers")
	case len(br) != 4:
		s.problem(fmt.Sprintf("/ByteRange has %d numbers instead of 4", len(br)))
	default:
		a, b, cc := br[1], br[2]-br[1], br[3]
		_ = b
		s.ByteRangeShapeOK = br[0] == 0 && br[1] > 0 && br[2] > br[1] && br[3] >= 0
		if !s.ByteRangeShapeOK {
			switch {
			case br[0] != 0:
				s.problem("/ByteRange does not start at 0")
			case br[2] <= br[1]:
				s.problem("/ByteRange ranges overlap or are out of order")
			default:
				s.problem("/ByteRange has a negative or zero length")
			}
		}
		s.InsideFile = br[0] >= 0 && a >= 0 && br[2] >= 0 && cc >= 0 && br[0]+a <= size && br[2]+cc <= size
		if !s.InsideFile {
			s.problem("/ByteRange reaches outside the file")
		}
		s.CoversWholeFile = br[2]+cc == size
		if s.CoveredRevision == 0 {
			s.problem("/ByteRange does not end at the end of a revision")
		}
	}
	cs, isStr := signed["Contents"].(pdf.String)
	switch {
	case signed["Contents"] == nil:
		s.problem("/Contents is missing")
	case !isStr:
		s.problem("/Contents is not a string")
	default:
		s.Contents = cs.Value
		if len(br) == 4 {
			s.GapIsContents = cs.Hex && cs.Pos.Start >= 0 && cs.Pos.Start == br[1] && cs.Pos.End == br[2]
			if !s.GapIsContents {
				switch {
				case !cs.Hex:
					s.problem("/Contents is not a hexadecimal string")
				case cs.Pos.Start < 0:
					s.problem("the signature dictionary is inside an object stream")
				case br[1] <= cs.Pos.Start && br[2] >= cs.Pos.End:
					s.problem("the /ByteRange gap is larger than the /Contents string")
				default:
					s.problem("the /ByteRange gap is not the /Contents string of the signature dictionary")
				}
			}
		}
		if len(cs.Value) == 0 {
			s.problem("/Contents is empty")
		}
	}
	if n := derLength(s.Contents); r.Encrypted() && n > 0 && n < len(s.Contents) && r.EncryptedZeros(f.ref, s.Contents, n) {
		// The signer encrypted the zero placeholder before writing the CMS over it (PDFBox does): the rest is
		// zeros.
		s.Contents = append(s.Contents[:n:n], make([]byte, len(s.Contents)-n)...)
		s.ContentsPaddingEncrypted = true
	}
	if len(s.Contents) > 0 {
		sd, err := cms.Parse(s.Contents)
		if err != nil {
			s.CMSErr = err
		} else {
			s.CMS = sd
		}
	}
	return c
}

// hashable reports whether the signature's ByteRange can be hashed.
func (c checked) hashable() bool {
	br := c.ByteRange
	return c.CMS != nil && len(br) == 4 && c.InsideFile && br[1] >= 0 && br[3] >= 0
}

// digestRequests lists the digests checkCrypto will need, for rangeDigests to compute them in one pass.
func (c checked) digestRequests() []digestKey {
	if !c.hashable() {
		return nil
	}
	br := c.ByteRange
	switch c.SubFilter {
	case "ETSI.RFC3161":
		if ts, err := cms.ParseTimeStamp(c.CMS.Raw); err == nil {
			return []digestKey{digestRequest(ts.Info.HashAlgorithm, br)}
		}
	case "adbe.pkcs7.sha1":
		return []digestKey{digestRequest(crypto.SHA1, br)}
	default:
		if len(c.CMS.SignerInfos) == 1 {
			return []digestKey{digestRequest(c.CMS.SignerInfo.DigestAlgorithm, br)}
		}
	}
	return nil
}

// checkCrypto checks the CMS (or the document time-stamp token) against the digest of the ByteRange, taken from
// digests when it holds it, else hashed here.
func (c checked) checkCrypto(in io.ReaderAt, digests map[digestKey][]byte) {
	s, br := c.Signature, c.ByteRange
	digest := func(h crypto.Hash) ([]byte, error) {
		if h != 0 && len(br) == 4 {
			if d := digests[digestRequest(h, br)]; d != nil {
				return d, nil
			}
		}
		return hashRanges(in, h, br)
	}
	if c.hashable() {
		var results []*cms.Result
		var err error
		if s.SubFilter == "ETSI.RFC3161" {
			s.DocumentTimeStamp, s.Digest = checkDocumentTimeStamp(digest, s.CMS)
		} else if s.SubFilter == "adbe.pkcs7.sha1" {
			// The SHA-1 digest of the ByteRange is the encapsulated content, which the SignerInfos sign.
			if s.Digest, err = digest(crypto.SHA1); err == nil {
				s.EncapsulatedDigestOK = s.CMS.EContent != nil && bytes.Equal(s.CMS.EContent, s.Digest)
				results, err = s.CMS.VerifyEncapsulated()
			}
		} else if h := s.CMS.SignerInfo.DigestAlgorithm; len(s.CMS.SignerInfos) == 1 && h != 0 && h.Available() {
			var one *cms.Result
			if one, err = s.CMS.Verify(digest); err == nil {
				results = []*cms.Result{one}
				s.Digest = one.ContentDigest
			}
		} else {
			results, err = s.CMS.VerifyDetached(func(w io.Writer) error { return writeRanges(in, w, br) })
			if err == nil {
				s.Digest = results[0].ContentDigest
			}
		}
		switch {
		case err != nil:
			s.CMSErr = err
		case results != nil:
			s.CMSResults, s.CMSResult = results, results[0]
		}
		if s.Digest != nil {
			s.signed = &signedRanges{in: in, ranges: [][2]int64{{br[0], br[1]}, {br[2], br[3]}}}
		}
	}
}

// checkDocumentTimeStamp checks a document time-stamp: the token in sd (the parsed /Contents), its signature
// and TSA certificate, and its imprint against the hash of the ByteRange br under the token's hash algorithm.
// It also returns the ByteRange hash, nil when it was not computed.
func checkDocumentTimeStamp(digest func(crypto.Hash) ([]byte, error), sd *cms.SignedData) (*cms.SignatureTimeStamp, []byte) {
	ts, err := cms.ParseTimeStamp(sd.Raw)
	if err != nil {
		return &cms.SignatureTimeStamp{Err: err}, nil
	}
	st := &cms.SignatureTimeStamp{Token: ts, Time: ts.Info.GenTime}
	h := ts.Info.HashAlgorithm
	if h == 0 || !h.Available() {
		st.Signer, st.Err = ts.VerifySignature()
		if st.Err == nil {
			st.Err = fmt.Errorf("%w: imprint hash %v", cms.ErrUnsupportedAlgorithm, ts.Info.HashAlgorithmOID)
		}
		return st, nil
	}
	sum, err := digest(h)
	if err != nil {
		st.Err = fmt.Errorf("pades: hashing the ByteRange: %w", err)
		return st, nil
	}
	st.Signer, st.Err = ts.Verify(sum, h)
	return st, sum
}

// signedRanges are the byte ranges a signature's digest covered, in the reader they were digested from.
type signedRanges struct {
	in     io.ReaderAt
	ranges [][2]int64
}

// SignedContent returns the exact bytes the signature's digest covered (the ByteRange's two ranges, one after the
// other, from the reader Verify was given), or nil when no digest was computed. Whatever shows or extracts what a
// PDF signature signed reads it from here: the bytes outside the ranges (the /Contents gap and later revisions)
// are not signed.
func (s *Signature) SignedContent() io.Reader {
	if s.signed == nil {
		return nil
	}
	var rs []io.Reader
	for _, r := range s.signed.ranges {
		rs = append(rs, io.NewSectionReader(s.signed.in, r[0], r[1]))
	}
	return io.MultiReader(rs...)
}

func keyList(keys []pdf.Name) string {
	out := ""
	for i, k := range keys {
		if i > 0 {
			out += ", "
		}
		out += "/" + string(k)
	}
	if out == "" {
		out = "(re-saved)"
	}
	return out
}

func readDictionary(s *Signature, d pdf.Dict) {
	if t, ok := d.Name("Type"); ok {
		s.Type = string(t)
	}
	if f, ok := d.Name("Filter"); ok {
		s.Filter = string(f)
	}
	if f, ok := d.Name("SubFilter"); ok {
		s.SubFilter = string(f)
	}
	if m, ok := d["M"].(pdf.String); ok {
		s.MRaw = pdf.DecodeText(m.Value)
		if t, err := pdf.ParseDate(s.MRaw); err == nil {
			s.M = &t
		}
	}
	s.Name = pdf.Text(d["Name"])
	s.Reason = pdf.Text(d["Reason"])
	s.Location = pdf.Text(d["Location"])
	s.ContactInfo = pdf.Text(d["ContactInfo"])
	s.Profile = ParseReason(s.Reason)
}

// derLength returns the length of the DER element b starts with (tag, length and contents), 0 when b does not
// start with one in definite form.
func derLength(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	l, hdr := int(b[1]), 2
	if l&0x80 != 0 {
		k := l & 0x7f
		if k == 0 || k > 4 || len(b) < 2+k {
			return 0
		}
		l = 0
		for _, c := range b[2 : 2+k] {
			l = l<<8 | int(c)
		}
		hdr += k
	}
	if l < 0 || hdr+l > len(b) {
		return 0
	}
	return hdr + l
}

// byteRange returns the /ByteRange integers, or nil if it is not an array of integers.
func byteRange(o pdf.Object) []int64 {
	a, ok := o.(pdf.Array)
	if !ok || len(a) > 64 {
		return nil
	}
	out := make([]int64, 0, len(a))
	for _, e := range a {
		n, ok := e.(pdf.Integer)
		if !ok {
			return nil
		}
		out = append(out, int64(n))
	}
	return out
}

// hashRanges streams the two ranges of a ByteRange through h.
func hashRanges(in io.ReaderAt, h crypto.Hash, br []int64) ([]byte, error) {
	if h == 0 || !h.Available() {
		return nil, fmt.Errorf("hash %v not available", h)
	}
	w := h.New()
	if err := writeRanges(in, w, br); err != nil {
		return nil, err
	}
	return w.Sum(nil), nil
}

// writeRanges streams the ranges of a ByteRange to w.
func writeRanges(in io.ReaderAt, w io.Writer, br []int64) error {
	buf := make([]byte, 1<<20)
	for i := 0; i+1 < len(br); i += 2 {
		if _, err := io.CopyBuffer(w, io.NewSectionReader(in, br[i], br[i+1]), buf); err != nil {
			return err
		}
	}
	return nil
}
