package pades

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/trustsign/trustsign/cms"
	"github.com/trustsign/trustsign/internal/keyusage"
	"github.com/trustsign/trustsign/pdf"
)

// Errors returned by Sign and SignFile. Errors from reading the input wrap pdf.ErrMalformed, pdf.ErrLimit or
// pdf.ErrNotPDF; CMS failures wrap the cms package's errors.
var (
	// ErrEncrypted: the document is encrypted (even with an empty user password); trustsign does not sign
	// encrypted files.
	ErrEncrypted = errors.New("pades: encrypted PDF files are not supported")
	// ErrInvalidOptions: SignOptions are incomplete or contradictory.
	ErrInvalidOptions = errors.New("pades: invalid signing options")
	// ErrNoSuchPage: SignOptions.Page is outside the document.
	ErrNoSuchPage = errors.New("pades: no such page")
	// ErrFieldExists: SignOptions.FieldName names an existing form field.
	ErrFieldExists = errors.New("pades: a form field with that name already exists")
	// ErrNotPermitted: the document is certified with DocMDP P=1 (no changes), so a new signature would break it.
	ErrNotPermitted = errors.New("pades: the certification signature does not permit further changes")
	// ErrCertificationNotFirst: a certification (DocMDP) signature must be the document's first signature.
	ErrCertificationNotFirst = errors.New("pades: a certification signature must be the first signature")
	// ErrSignatureTooLarge: the CMS did not fit into the space reserved for /Contents.
	ErrSignatureTooLarge = errors.New("pades: signature larger than the reserved space")
)

// SignOptions configures a PAdES signature.
type SignOptions struct {
	// Signer makes the signature (RSA PKCS#1 v1.5 or ECDSA); its public key must be Certificate's.
	Signer crypto.Signer
	// Certificate is the signer's certificate.
	Certificate *x509.Certificate
	// Chain holds intermediate certificates to embed in the CMS.
	Chain []*x509.Certificate
	// Hash is the digest algorithm (default SHA-256).
	Hash crypto.Hash
	// Time is the signing time written to /M and the stamp (default time.Now()).
	Time time.Time
	// Limits bound the reading of the input (nil: the pdf package's defaults); Prepare and Sign read alike.
	Limits *pdf.Limits
	// TimeZone is the zone the stamp shows Time in, with its abbreviation (default Europe/Warsaw, as trustsign's
	// pages show times: "2026-12-03 18:04:05 CET").
	TimeZone *time.Location
	// Name, Reason, Location and ContactInfo fill the signature dictionary's entries of the same names.
	Name, Reason, Location, ContactInfo string
	// Profile, when set, binds a trusted profile: /Name becomes "FIRSTNAME SURNAME" and /Reason the text of
	// Profile.ServiceReason(SealPhrase), the real service's form (both override Name and Reason).
	Profile *Profile
	// SealPhrase is the seal owner's phrase that begins the real service's /Reason (empty: DefaultSealPhrase).
	SealPhrase string
	// LegacyReason writes trustsign's earlier /Reason form (Profile.Reason, which also carries the profile
	// number) instead of the real service's.
	LegacyReason bool
	// Visible selects a visible stamp; nil means visible exactly when Profile is set.
	Visible *bool
	// Page is the 1-based page of the widget; 0 means the last page.
	Page int
	// Rect is the stamp's x, y, width and height in points, measured from the bottom-left corner of the page as
	// displayed; nil places a 250×78 pt stamp at the bottom right.
	Rect *[4]float64
	// DocMDP makes a certification signature with permissions P=1 (no changes), 2 (form filling and signing) or 3
	// (also annotations); 0 makes an ordinary (approval) signature.
	DocMDP int
	// FieldName names the new signature field; empty picks "Signature1", "Signature2", ...
	FieldName string
	// TimeStamp, when set, makes a PAdES baseline B-T signature: it is asked for an RFC 3161 time-stamp token over
	// imprint, the hash of the CMS signature value under Hash (so its length tells the hash), and the token is
	// checked and embedded in /Contents as the unsigned attribute id-aa-signatureTimeStampToken. Sign reserves
	// TimeStampReserve more bytes in /Contents for it; a larger token fails with ErrSignatureTooLarge. The
	// callback runs after the document has been hashed, with Sign's context; its error fails Sign, wrapped.
	TimeStamp func(ctx context.Context, imprint []byte) ([]byte, error)
	// StampTitle and StampFooter replace the visible stamp's first line ("PODPIS ZAUFANY") and last line
	// ("Dokument podpisany elektronicznie podpisem zaufanym") when set, e.g. to mark a demonstration.
	StampTitle, StampFooter string
}

// SignResult describes the signature made.
type SignResult struct {
	// FieldName is the new signature field's name.
	FieldName string
	// ByteRange is the signed byte ranges [0 a b c] of the output.
	ByteRange [4]int64
	// Size is the size of the output.
	Size int64
	// Revision is the number of the new revision (the original's revisions plus one).
	Revision int
	// Digest is the digest of the ByteRange under the signature's hash.
	Digest []byte
	// Visible tells whether a stamp was drawn; Page and Rect say where (Rect in user space: llx lly urx ury).
	Visible bool
	Page    int
	Rect    [4]float64
}

func (o *SignOptions) hash() (crypto.Hash, error) {
	switch o.Hash {
	case 0:
		return crypto.SHA256, nil
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
		return o.Hash, nil
	}
	return 0, fmt.Errorf("%w: hash %v (use SHA-256, SHA-384 or SHA-512)", ErrInvalidOptions, o.Hash)
}

// Sign reads the PDF in (size bytes) and writes to out the same bytes followed by an incremental update holding a
// PAdES baseline B-B signature (B-T with SignOptions.TimeStamp; /SubFilter /ETSI.CAdES.detached) over the whole output except the /Contents
// placeholder. The input is read once, streamed into out and the hash at the same time; only the update (a few
// kilobytes, plus the stamp's font subset) is held in memory.
func Sign(ctx context.Context, in io.ReaderAt, size int64, out io.Writer, opts SignOptions) (*SignResult, error) {
	return sign(ctx, in, size, out, opts, func(h io.Writer) error { return copyHashed(ctx, in, size, h, out) })
}

// Prepare does everything Sign does before the signature itself, and returns the error Sign would return for
// this document and these options: it checks opts, reads the PDF (with Sign's limits) and builds the incremental
// update with the field, the widget and the stamp, then discards it. It writes nothing and does not sign (opts.Signer
// is only asked for its public key), so a service can refuse a PDF that could never be signed before anyone is asked
// to approve its signature. A document Prepare accepts is one Sign accepts with the same options (Time, Profile and
// the key excepted, which only change what the stamp and the reserved space hold).
func Prepare(ctx context.Context, in io.ReaderAt, size int64, opts SignOptions) error {
	_, _, err := planSignature(ctx, in, size, &opts)
	return err
}

// sign prepares the update, lets stream hash the original into h while it lands in out, and appends the update.
func sign(ctx context.Context, in io.ReaderAt, size int64, out io.Writer, opts SignOptions, stream func(h io.Writer) error) (*SignResult, error) {
	pl, hash, err := planSignature(ctx, in, size, &opts)
	if err != nil {
		return nil, err
	}
	upd := pl.update

	h := hash.New()
	if err := stream(h); err != nil {
		return nil, err
	}
	h.Write(upd[:pl.gapStart])
	h.Write(upd[pl.gapEnd:])
	digest := h.Sum(nil)
	der, err := cms.SignDetachedContext(ctx, digest, cms.SignOptions{
		Hash: hash, Signer: opts.Signer, Certificate: opts.Certificate, Chain: opts.Chain, PAdES: true,
		TimeStamp: opts.TimeStamp,
	})
	if err != nil {
		return nil, fmt.Errorf("pades: %w", err)
	}
	if 2*len(der) > pl.gapEnd-pl.gapStart-2 {
		return nil, fmt.Errorf("%w: %d bytes, %d reserved", ErrSignatureTooLarge, len(der), (pl.gapEnd-pl.gapStart-2)/2)
	}
	hex.Encode(upd[pl.gapStart+1:], der)
	for i := pl.gapStart + 1 + 2*len(der); i < pl.gapEnd-1; i++ {
		upd[i] = '0'
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, err := out.Write(upd); err != nil {
		return nil, fmt.Errorf("pades: writing: %w", err)
	}
	res := pl.result
	res.Digest = digest
	return &res, nil
}

// planSignature checks the options (filling in their defaults), opens the PDF and prepares the update: the part of Sign
// that Prepare shares.
func planSignature(ctx context.Context, in io.ReaderAt, size int64, opts *SignOptions) (*plan, crypto.Hash, error) {
	hash, err := opts.hash()
	if err != nil {
		return nil, 0, err
	}
	if opts.Signer == nil || opts.Certificate == nil {
		return nil, 0, fmt.Errorf("%w: Signer and Certificate are required", ErrInvalidOptions)
	}
	if opts.DocMDP < 0 || opts.DocMDP > 3 {
		return nil, 0, fmt.Errorf("%w: DocMDP must be 0, 1, 2 or 3", ErrInvalidOptions)
	}
	if err := keyusage.ForDocuments(opts.Certificate); err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrInvalidOptions, err)
	}
	// Catch what would only fail after the document has been streamed out.
	switch opts.Signer.Public().(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey:
	default:
		return nil, 0, fmt.Errorf("%w: %T keys are not supported (RSA or ECDSA)", ErrInvalidOptions, opts.Signer.Public())
	}
	if pk, ok := opts.Signer.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pk.Equal(opts.Certificate.PublicKey) {
		return nil, 0, fmt.Errorf("%w: the signer's key is not the certificate's", ErrInvalidOptions)
	}
	if opts.Time.IsZero() {
		opts.Time = time.Now()
	}
	r, err := pdf.Open(in, size, opts.Limits)
	if err != nil {
		return nil, 0, fmt.Errorf("pades: reading the PDF: %w", err)
	}
	if r.Encrypted() {
		return nil, 0, ErrEncrypted
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	pl, err := prepare(r, opts)
	if err != nil {
		return nil, 0, err
	}
	return pl, hash, nil
}

const chunkSize = 1 << 20

// copyHashed streams in[0:size) into both h and out. Reading, hashing and writing run as a three-stage pipeline
// over a few 1 MB buffers, so hashing and writing overlap.
func copyHashed(ctx context.Context, in io.ReaderAt, size int64, h io.Writer, out io.Writer) error {
	const nbuf = 4
	free := make(chan []byte, nbuf)
	for i := 0; i < nbuf; i++ {
		free <- make([]byte, chunkSize)
	}
	toHash := make(chan []byte, nbuf)
	toWrite := make(chan []byte, nbuf)
	werr := make(chan error, 1)
	stop := make(chan struct{})
	go func() {
		for b := range toHash {
			h.Write(b)
			toWrite <- b
		}
		close(toWrite)
	}()
	go func() {
		var err error
		for b := range toWrite {
			if err == nil {
				if _, e := out.Write(b); e != nil {
					err = fmt.Errorf("pades: writing: %w", e)
					close(stop)
				}
			}
			free <- b[:cap(b)]
		}
		werr <- err
	}()
	var rerr error
read:
	for off := int64(0); off < size; {
		if err := ctx.Err(); err != nil {
			rerr = err
			break
		}
		var b []byte
		select {
		case b = <-free:
		case <-stop:
			break read
		}
		n := int64(len(b))
		if off+n > size {
			n = size - off
		}
		m, err := in.ReadAt(b[:n], off)
		if int64(m) < n {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			rerr = fmt.Errorf("pades: reading: %w", err)
			break
		}
		toHash <- b[:n]
		off += n
	}
	close(toHash)
	if err := <-werr; err != nil {
		return err
	}
	return rerr
}

// hashRange streams in[0:size) into h.
func hashRange(ctx context.Context, in io.ReaderAt, size int64, h io.Writer) error {
	buf := make([]byte, chunkSize)
	for off := int64(0); off < size; {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(int64(len(buf)), size-off)
		m, err := in.ReadAt(buf[:n], off)
		if int64(m) < n {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("pades: reading: %w", err)
		}
		h.Write(buf[:n])
		off += n
	}
	return nil
}

// SignFile signs the PDF at inPath into outPath (which may be the same path): the output is written to a
// temporary file in outPath's directory and renamed into place once complete.
func SignFile(ctx context.Context, inPath, outPath string, opts SignOptions) (*SignResult, error) {
	in, err := os.Open(inPath)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(outPath), "."+filepath.Base(outPath)+".*")
	if err != nil {
		return nil, err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	size := st.Size()
	// The original lands in the output by a kernel-side copy (copy_file_range where available) while it is hashed.
	stream := func(h io.Writer) error {
		errc := make(chan error, 1)
		go func() {
			if _, err := in.Seek(0, io.SeekStart); err != nil {
				errc <- err
				return
			}
			n, err := tmp.ReadFrom(io.LimitReader(in, size))
			if err == nil && n != size {
				err = io.ErrUnexpectedEOF
			}
			errc <- err
		}()
		herr := hashRange(ctx, in, size, h)
		if err := <-errc; err != nil {
			return fmt.Errorf("pades: copying: %w", err)
		}
		return herr
	}
	res, err := sign(ctx, in, size, tmp, opts, stream)
	if err != nil {
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), outPath); err != nil {
		return nil, err
	}
	done = true
	return res, nil
}

// plan is a prepared update with its /Contents placeholder.
type plan struct {
	update           []byte
	gapStart, gapEnd int // the hex string "<...>" within update
	result           SignResult
}

const byteRangeWidth = 48 // "[0 a b c]" padded with spaces

// catalogAndPages reads the catalog (and its reference) and the pages of a document that must have a page.
func catalogAndPages(v pdf.View) (pdf.Dict, pdf.Ref, []pdf.Page, error) {
	cat, catRef, err := v.Catalog()
	if err != nil {
		return nil, pdf.Ref{}, nil, fmt.Errorf("pades: %w", err)
	}
	pages, err := v.Pages()
	if err != nil {
		return nil, pdf.Ref{}, nil, fmt.Errorf("pades: %w", err)
	}
	if len(pages) == 0 {
		return nil, pdf.Ref{}, nil, fmt.Errorf("%w: the document has no pages", ErrNoSuchPage)
	}
	return cat, catRef, pages, nil
}

// prepare builds the incremental update: the signature dictionary with placeholders, the field/widget, its
// appearance, and the updated catalog, AcroForm and page.
func prepare(r *pdf.Reader, opts *SignOptions) (*plan, error) {
	v := r.Latest()
	cat, catRef, pages, err := catalogAndPages(v)
	if err != nil {
		return nil, err
	}
	pageNo := opts.Page
	if pageNo == 0 {
		pageNo = len(pages)
	}
	if pageNo < 1 || pageNo > len(pages) {
		return nil, fmt.Errorf("%w: page %d of %d", ErrNoSuchPage, opts.Page, len(pages))
	}
	page := pages[pageNo-1]

	form, err := readForm(v, cat)
	if err != nil {
		return nil, err
	}
	if form.docMDP == 1 {
		return nil, ErrNotPermitted
	}
	if opts.DocMDP > 0 && form.signed > 0 {
		return nil, ErrCertificationNotFirst
	}
	name := opts.FieldName
	if name == "" {
		for i := 1; ; i++ {
			name = "Signature" + strconv.Itoa(i)
			if !form.names[name] {
				break
			}
		}
	} else if form.names[name] {
		return nil, fmt.Errorf("%w: %q", ErrFieldExists, name)
	}

	u := pdf.NewUpdate(r)
	sigRef := u.Reserve()
	widgetRef := u.Reserve()

	visible := opts.Profile != nil
	if opts.Visible != nil {
		visible = *opts.Visible
	}
	res := SignResult{FieldName: name, Visible: visible, Page: pageNo, Revision: len(r.Revisions()) + 1}
	var ap pdf.Ref
	rect := pdf.Array{pdf.Integer(0), pdf.Integer(0), pdf.Integer(0), pdf.Integer(0)}
	if visible {
		pl, err := place(page, opts.Rect)
		if err != nil {
			return nil, err
		}
		if ap, err = stampAppearance(u, pl, stampName(opts), opts.StampTitle, opts.StampFooter, opts.Time, opts.TimeZone); err != nil {
			return nil, err
		}
		rect = pdf.Array{pdf.Real(pl.rect[0]), pdf.Real(pl.rect[1]), pdf.Real(pl.rect[2]), pdf.Real(pl.rect[3])}
		res.Rect = pl.rect
	} else {
		ap = emptyAppearance(u)
	}
	u.Set(widgetRef, pdf.Dict{
		"Type":    pdf.Name("Annot"),
		"Subtype": pdf.Name("Widget"),
		"FT":      pdf.Name("Sig"),
		"T":       pdf.TextString(name),
		"V":       sigRef,
		"F":       pdf.Integer(132), // Print | Locked
		"Rect":    rect,
		"P":       page.Ref,
		"AP":      pdf.Dict{"N": ap},
	})

	sigDict, brOff, contentsOff, contentsLen := signatureDictionary(opts)
	u.Set(sigRef, pdf.Raw(sigDict))

	var perms pdf.Dict
	if opts.DocMDP > 0 {
		perms = pdf.Dict{}
		if p, err := v.Dict(cat["Perms"]); err == nil && p != nil {
			perms = p.Clone()
		}
		perms["DocMDP"] = sigRef
	}
	if err := attachField(v, u, cat, catRef, page, widgetRef, perms); err != nil {
		return nil, err
	}
	pl, err := finishUpdate(r, u, catRef, sigRef, sigDict, brOff, contentsOff, contentsLen,
		opts.Time.UTC().Format(time.RFC3339Nano)+"|"+name)
	if err != nil {
		return nil, err
	}
	res.ByteRange = pl.result.ByteRange
	res.Size = pl.result.Size
	pl.result = res
	return pl, nil
}

// attachField adds the field whose widget is widgetRef to the form (creating it, SigFlags 3) and to page's
// /Annots, and sets /Perms to perms when it is not nil.
func attachField(v pdf.View, u *pdf.Update, cat pdf.Dict, catRef pdf.Ref, page pdf.Page, widgetRef pdf.Ref, perms pdf.Dict) error {
	newCat := cat.Clone()
	catChanged := false
	switch af := cat["AcroForm"].(type) {
	case pdf.Ref:
		d, err := v.Dict(af)
		if err != nil || d == nil {
			return fmt.Errorf("pades: %w", errOr(err, "AcroForm is not a dictionary"))
		}
		nd, err := addField(v, u, d, widgetRef)
		if err != nil {
			return err
		}
		if nd != nil {
			u.Set(af, nd)
		}
	case pdf.Dict:
		nd, err := addField(v, u, af, widgetRef)
		if err != nil {
			return err
		}
		if nd != nil {
			newCat["AcroForm"] = nd
			catChanged = true
		}
	default:
		newCat["AcroForm"] = u.Add(pdf.Dict{"Fields": pdf.Array{widgetRef}, "SigFlags": pdf.Integer(3)})
		catChanged = true
	}
	if perms != nil {
		newCat["Perms"] = perms
		catChanged = true
	}
	if catChanged {
		u.Set(catRef, newCat)
	}
	switch an := page.Dict["Annots"].(type) {
	case pdf.Ref:
		o, err := v.Resolve(an)
		if err != nil {
			return fmt.Errorf("pades: %w", err)
		}
		arr, _ := o.(pdf.Array)
		u.Set(an, append(append(pdf.Array{}, arr...), widgetRef))
	default:
		arr, _ := an.(pdf.Array)
		np := page.Dict.Clone()
		np["Annots"] = append(append(pdf.Array{}, arr...), widgetRef)
		u.Set(page.Ref, np)
	}
	return nil
}

// updateTrailer returns the trailer of an update: the document's /Root and /Info, and an /ID whose first part
// is kept and whose second is derived from seed.
func updateTrailer(r *pdf.Reader, catRef pdf.Ref, seed string) pdf.Dict {
	trailer := pdf.Dict{"Root": catRef}
	old := r.Trailer()
	if info, ok := old["Info"].(pdf.Ref); ok {
		trailer["Info"] = info
	}
	first := make([]byte, 16)
	if ids, ok := old["ID"].(pdf.Array); ok && len(ids) == 2 {
		if s, ok := ids[0].(pdf.String); ok && len(s.Value) > 0 {
			first = s.Value
		}
	}
	idh := sha256.Sum256(fmt.Appendf(nil, "%x|%d|%s", first, r.Size(), seed))
	if bytes.Equal(first, make([]byte, 16)) {
		first = idh[16:]
	}
	trailer["ID"] = pdf.Array{pdf.String{Value: first, Hex: true}, pdf.String{Value: idh[:16], Hex: true}}
	return trailer
}

// needsEOL reports whether the document does not end with an end-of-line marker (an update then starts with one).
func needsEOL(r *pdf.Reader) bool {
	size := r.Size()
	if size > 0 {
		var last [1]byte
		if _, err := readAtFull(r, last[:], size-1); err == nil && last[0] != '\n' && last[0] != '\r' {
			return true
		}
	}
	return false
}

// finishUpdate serializes the update whose signature dictionary sigRef holds sigDict (with its /ByteRange and
// /Contents placeholders at brOff and contentsOff) and fills in the /ByteRange.
func finishUpdate(r *pdf.Reader, u *pdf.Update, catRef, sigRef pdf.Ref, sigDict []byte, brOff, contentsOff, contentsLen int, seed string) (*plan, error) {
	size := r.Size()
	w, err := u.Bytes(size, updateTrailer(r, catRef, seed), needsEOL(r))
	if err != nil {
		return nil, fmt.Errorf("pades: %w", err)
	}
	upd := w.Bytes
	objOff := w.Offsets[sigRef.Num]
	i := bytes.Index(upd[objOff:], sigDict)
	if i < 0 {
		return nil, errors.New("pades: internal error: signature dictionary not found in the update")
	}
	base := int(objOff) + i
	gapStart, gapEnd := base+contentsOff, base+contentsOff+contentsLen
	a := size + int64(gapStart)
	b := size + int64(gapEnd)
	total := size + int64(len(upd))
	br := fmt.Sprintf("[0 %d %d %d]", a, b, total-b)
	if len(br) > byteRangeWidth {
		return nil, errors.New("pades: file too large for the /ByteRange placeholder")
	}
	copy(upd[base+brOff:], br)
	return &plan{update: upd, gapStart: gapStart, gapEnd: gapEnd, result: SignResult{ByteRange: [4]int64{0, a, b, total - b}, Size: total}}, nil
}

func errOr(err error, msg string) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: %s", pdf.ErrMalformed, msg)
}

func readAtFull(r *pdf.Reader, b []byte, off int64) (int, error) {
	return r.ReadAt(b, off)
}

// stampName is the signer's name shown on the stamp.
func stampName(o *SignOptions) string {
	switch {
	case o.Profile != nil:
		return o.Profile.FullName()
	case o.Name != "":
		return o.Name
	case o.Certificate.Subject.CommonName != "":
		return o.Certificate.Subject.CommonName
	}
	return o.Certificate.Subject.String()
}

// signatureDictionary serializes the signature dictionary with a /ByteRange placeholder and a zero-filled
// /Contents hex string, returning the offsets of both placeholders and the length of the hex string (with its
// angle brackets).
func signatureDictionary(o *SignOptions) (b []byte, brOff, contentsOff, contentsLen int) {
	b = append(b, "<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange "...)
	brOff = len(b)
	b = append(b, bytes.Repeat([]byte{' '}, byteRangeWidth)...)
	b = append(b, " /Contents "...)
	contentsOff = len(b)
	n := reserve(o)
	b = append(b, '<')
	b = append(b, bytes.Repeat([]byte{'0'}, 2*n)...)
	b = append(b, '>')
	contentsLen = 2*n + 2
	b = append(b, " /M "...)
	b = pdf.AppendObject(b, pdf.String{Value: []byte(pdf.FormatDate(o.Time))})
	name, reason := o.Name, o.Reason
	if o.Profile != nil {
		name, reason = o.Profile.FullName(), o.Profile.ServiceReason(o.SealPhrase)
		if o.LegacyReason {
			reason = o.Profile.Reason()
		}
	}
	for _, kv := range []struct {
		k pdf.Name
		v string
	}{{"Name", name}, {"Reason", reason}, {"Location", o.Location}, {"ContactInfo", o.ContactInfo}} {
		if kv.v != "" {
			b = append(b, ' ')
			b = pdf.AppendObject(b, kv.k)
			b = append(b, ' ')
			b = pdf.AppendObject(b, pdf.TextString(kv.v))
		}
	}
	if o.DocMDP > 0 {
		b = append(b, " /Reference "...)
		b = pdf.AppendObject(b, pdf.Array{pdf.Dict{
			"Type":            pdf.Name("SigRef"),
			"TransformMethod": pdf.Name("DocMDP"),
			"TransformParams": pdf.Dict{"Type": pdf.Name("TransformParams"), "P": pdf.Integer(o.DocMDP), "V": pdf.Name("1.2")},
		}})
	}
	b = append(b, " /Prop_Build <</App <</Name /trustsign>>>>>>"...)
	return b, brOff, contentsOff, contentsLen
}

// TimeStampReserve is the room Sign adds to /Contents for a signature time-stamp token (SignOptions.TimeStamp): a
// token with a TSA certificate and its chain of RSA-4096 certificates fits.
const TimeStampReserve = 8 << 10

// reserve estimates the CMS size generously: certificates, signature value, attributes and room to spare.
func reserve(o *SignOptions) int {
	n := 4096 + len(o.Certificate.Raw)
	if o.TimeStamp != nil {
		n += TimeStampReserve
	}
	for _, c := range o.Chain {
		n += len(c.Raw)
	}
	switch k := o.Signer.Public().(type) {
	case *rsa.PublicKey:
		n += k.Size()
	case *ecdsa.PublicKey:
		n += 2*((k.Curve.Params().BitSize+7)/8) + 16
	case ed25519.PublicKey:
		n += 64
	default:
		n += 1024
	}
	return (n + 1023) / 1024 * 1024
}

// form is what Sign needs to know about the existing form.
type form struct {
	names  map[string]bool // top-level field names
	signed int             // signature fields with a value
	docMDP int             // the certification signature's P, 0 if none
}

func readForm(v pdf.View, cat pdf.Dict) (*form, error) {
	f := &form{names: map[string]bool{}}
	if perms, err := v.Dict(cat["Perms"]); err == nil && perms != nil {
		if sd, err := v.Dict(perms["DocMDP"]); err == nil && sd != nil {
			f.docMDP = docMDPOf(v, sd)
		}
	}
	af, err := v.Dict(cat["AcroForm"])
	if err != nil {
		return nil, fmt.Errorf("pades: %w", err)
	}
	if af == nil {
		return f, nil
	}
	fo, err := v.Resolve(af["Fields"])
	if err != nil {
		return nil, fmt.Errorf("pades: %w", err)
	}
	fields, _ := fo.(pdf.Array)
	seen := map[pdf.Ref]bool{}
	var walk func(o pdf.Object, top bool, ft pdf.Name, depth int) error
	walk = func(o pdf.Object, top bool, ft pdf.Name, depth int) error {
		if depth > 32 || len(seen) > 100000 {
			return fmt.Errorf("pades: %w: form field tree too deep or too large", pdf.ErrLimit)
		}
		if ref, ok := o.(pdf.Ref); ok {
			if seen[ref] {
				return nil
			}
			seen[ref] = true
		}
		d, err := v.Dict(o)
		if err != nil {
			return fmt.Errorf("pades: %w", err)
		}
		if d == nil {
			return nil
		}
		if top {
			if t := pdf.Text(d["T"]); t != "" {
				f.names[t] = true
			}
		}
		if n, ok := d.Name("FT"); ok {
			ft = n
		}
		if ft == "Sig" && d["V"] != nil {
			f.signed++
		}
		if kids, err := v.Resolve(d["Kids"]); err == nil {
			if ka, ok := kids.(pdf.Array); ok {
				for _, k := range ka {
					if err := walk(k, false, ft, depth+1); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	for _, fl := range fields {
		if err := walk(fl, true, "", 0); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// docMDPOf returns the P of a signature dictionary's DocMDP transform (2 when the transform has no P), or 0.
func docMDPOf(v pdf.View, sd pdf.Dict) int {
	refs, err := v.Resolve(sd["Reference"])
	if err != nil {
		return 0
	}
	arr, _ := refs.(pdf.Array)
	for _, e := range arr {
		d, err := v.Dict(e)
		if err != nil || d == nil {
			continue
		}
		if m, _ := d.Name("TransformMethod"); m != "DocMDP" {
			continue
		}
		tp, _ := v.Dict(d["TransformParams"])
		if tp != nil {
			if p, err := v.Resolve(tp["P"]); err == nil {
				if n, ok := p.(pdf.Integer); ok && n >= 1 && n <= 3 {
					return int(n)
				}
			}
		}
		return 2
	}
	return 0
}

// addField returns the AcroForm with the new field and SigFlags 3, or nil when only an indirect /Fields array
// had to change (which addField then updates).
func addField(v pdf.View, u *pdf.Update, af pdf.Dict, field pdf.Ref) (pdf.Dict, error) {
	nd := af.Clone()
	changed := false
	switch fl := af["Fields"].(type) {
	case pdf.Ref:
		o, err := v.Resolve(fl)
		if err != nil {
			return nil, fmt.Errorf("pades: %w", err)
		}
		arr, _ := o.(pdf.Array)
		u.Set(fl, append(append(pdf.Array{}, arr...), field))
	default:
		arr, _ := fl.(pdf.Array)
		nd["Fields"] = append(append(pdf.Array{}, arr...), field)
		changed = true
	}
	flags, _ := af.Int("SigFlags")
	if flags&3 != 3 {
		nd["SigFlags"] = pdf.Integer(flags | 3)
		changed = true
	}
	if !changed {
		return nil, nil
	}
	return nd, nil
}
