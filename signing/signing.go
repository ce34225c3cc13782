// Package signing runs the trusted-signature flow of integrators' signing requests: an integrator submits a
// document (prepare), the profile holder sees it and asks for a one-time code, and only when the code is redeemed is
// the document sealed with the service's key, in XAdES or PAdES, bound to the holder's trusted profile.
//
// It is the one place where a signature is made for a holder, shared by the REST API and the web pages, and it
// delivers the integrators' webhooks durably (Deliverer: recorded with the request's end, posted by any node). It
// does not serve HTTP, hash passwords or deliver codes: profiles and codes are package profile's, storage is package
// store's, formats are packages xades and pades.
package signing

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/internal/xmldoc"
	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/pdf"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/revocation"
	"github.com/trustsign/trustsign/signer"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/tsa"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/xades"
)

// Errors. The API maps them to HTTP once.
var (
	// ErrInvalid: the submission breaks a rule (a field is named in *FieldError).
	ErrInvalid = errors.New("signing: invalid request")
	// ErrUnsupportedFormat: the document cannot be signed in the asked format (e.g. pades for a non-PDF).
	ErrUnsupportedFormat = errors.New("signing: unsupported document format")
	// ErrTooLarge: the document exceeds the size limit.
	ErrTooLarge = errors.New("signing: document too large")
	// ErrNotFound: no such request (or not the caller's).
	ErrNotFound = errors.New("signing: request not found")
	// ErrNotReady: the signed document is not there yet.
	ErrNotReady = errors.New("signing: request not signed yet")
	// ErrClosed: the request is no longer pending (signed, expired, cancelled or failed).
	ErrClosed = errors.New("signing: request is no longer pending")
	// ErrOtherHolder: another profile holder has taken up the request.
	ErrOtherHolder = errors.New("signing: request belongs to another profile holder")
	// ErrSealUnavailable: the seal could not be made or stored now (the key is unavailable, the disk is full...).
	// Nothing changed: the requests are still pending and the holder's code can be used again. A time-stamping
	// authority or a revocation server that does not answer is one.
	ErrSealUnavailable = errors.New("signing: the seal cannot be made now")
	// ErrLevelNotAllowed: the submission asks for a baseline level above the one the service is configured to make.
	ErrLevelNotAllowed = errors.New("signing: level above the service's configured level")
)

// Baseline levels of the seals (ETSI EN 319 132-1 for XAdES, EN 319 142-1 for PAdES).
const (
	LevelBB   = "b-b"   // the signature alone
	LevelBT   = "b-t"   // and a signature time-stamp
	LevelBLT  = "b-lt"  // and the certificates and revocation data of the seal's and the TSA's chains
	LevelBLTA = "b-lta" // and an archive time-stamp (XAdES ArchiveTimeStamp, PDF document time-stamp)
)

// levelRank orders the levels; 0 is not a level.
func levelRank(l string) int {
	switch l {
	case LevelBB:
		return 1
	case LevelBT:
		return 2
	case LevelBLT:
		return 3
	case LevelBLTA:
		return 4
	}
	return 0
}

// ParseLevel normalises a level's name ("B-LT", "b-lt") and refuses one that is not a baseline level.
func ParseLevel(s string) (string, error) {
	l := strings.ToLower(strings.TrimSpace(s))
	if levelRank(l) == 0 {
		return "", fmt.Errorf("unknown level %q (b-b, b-t, b-lt or b-lta)", s)
	}
	return l, nil
}

// FieldError names the invalid field.
type FieldError struct{ Field, Reason string }

func (e *FieldError) Error() string        { return "signing: invalid " + e.Field + ": " + e.Reason }
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// Formats.
const (
	FormatXAdES = "xades"
	FormatPAdES = "pades"
	FormatAuto  = "auto"
)

// Clock tells the time.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Store is what the flow needs from storage.
type Store interface {
	store.SigningRequests
	// Update runs fn in one read-write transaction: a request's end, its audit record and the webhook delivery it
	// owes commit together.
	Update(ctx context.Context, fn func(*store.Tx) error) error
	// UpdateAhead is Update returning as soon as fn has run, before its commit (store.DB.UpdateAhead): the
	// holder's binding to a request rides in the commit of the code that follows it.
	UpdateAhead(ctx context.Context, fn func(*store.Tx) error) (after context.Context, wait func() error, err error)
}

// Profiles is what the flow needs from the profile service.
type Profiles interface {
	Get(ctx context.Context, profileID string) (profile.Profile, error)
	// Client reads an integrator client (profile.ErrNotFound for one the store does not hold, as the demo
	// integrator): the requests of a disabled client are not signed and its notifications not sent.
	Client(ctx context.Context, clientID string) (profile.Client, error)
	IssueBatchSigningCode(ctx context.Context, profileID string, docs []profile.SigningDocument) (profile.CodeInfo, error)
	// CheckBatchSigningCode checks the code without spending it (a wrong one counts against it).
	CheckBatchSigningCode(ctx context.Context, profileID string, docs []profile.SigningDocument, code string) error
	// RedeemBatchSigningCodeAnd spends the code and runs record in the same store transaction.
	RedeemBatchSigningCodeAnd(ctx context.Context, profileID string, docs []profile.SigningDocument, code string, record func(tx *store.Tx) error) error
}

// Options configure the service.
type Options struct {
	Clock Clock
	Rand  io.Reader
	// RequestTTL is how long a request waits for its holder (default 1 hour).
	RequestTTL time.Duration
	// MaxDocumentBytes bounds documents (default 10 MiB).
	MaxDocumentBytes int
	// MaxBatch bounds the documents of one batch (default 20).
	MaxBatch int
	// SignURL builds the holder's address for a request id (default "/sign/<id>").
	SignURL func(id string) string
	// Notify, when set, receives every finished request after its end was committed, in this process (a hook for
	// tests and tools; nothing durable records it: integrators' webhooks are Webhooks').
	Notify func(ctx context.Context, r Request)
	// Webhooks, when set, makes webhooks durable: the transaction that ends a request submitted with Webhook set
	// records the delivery it owes, and the Deliverer (every node runs one) is kicked after the commit.
	Webhooks *Deliverer
	// SealPhrase begins the PDF /Reason, in the real service's form "PHRASE w imieniu: NAMES, PESEL: …, PZ ID: …"
	// (default pades.DefaultSealPhrase).
	SealPhrase string
	// PrepareConcurrency bounds the PDF signatures prepared at once to check submissions (default GOMAXPROCS);
	// PrepareTimeout is how long a submission waits for the checks of its PDFs before it is refused (default 10 s).
	PrepareConcurrency int
	PrepareTimeout     time.Duration
	// DemoClientID is the demonstration form's integrator (empty: none). Its PDFs are sealed marked as a
	// demonstration, in what the signature covers: the stamp's title and footer, and a /Reason beginning with
	// DemoSealPhrase (its XML marks itself in its content).
	DemoClientID string
	// Level is the baseline level of the seals and the highest a submission may ask for (LevelBB when empty).
	// Above b-b every seal is time-stamped through TimeStamp; b-lt and b-lta also embed what Validation gathers.
	// Both run at confirmation, before and outside the store transaction that keeps the seal; when either fails
	// the confirmation is ErrSealUnavailable and nothing changes.
	Level string
	// TimeStamp asks a time-stamping authority for a checked token over a SHA-256 imprint ((*tsa.Client).Stamp).
	TimeStamp func(ctx context.Context, imprint []byte) (*tsa.Token, error)
	// Validation gathers the certificates and revocation data of a chain ((*revocation.Fetcher).Collect).
	Validation revocation.Source
}

// DemoSealPhrase begins the /Reason of a PDF sealed for the demonstration form, before the seal phrase.
const DemoSealPhrase = "DEMONSTRACJA, nie podpis zaufany: "

// The visible stamp of a PDF sealed for the demonstration form.
const (
	demoStampTitle  = "DEMONSTRACJA"
	demoStampFooter = "Dokument demonstracyjny, nie jest to podpis zaufany"
)

// Service runs signing requests.
type Service struct {
	st       Store
	profiles Profiles
	seal     atomic.Pointer[signer.Seal] // swapped by SetSeal; each seal reads it once
	o        Options
	prepares chan struct{} // slots of the PDF preparations that check submissions
}

// New returns the service sealing with seal.
func New(st Store, profiles Profiles, seal *signer.Seal, o Options) *Service {
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.RequestTTL == 0 {
		o.RequestTTL = time.Hour
	}
	if o.MaxDocumentBytes == 0 {
		o.MaxDocumentBytes = 10 << 20
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = 20
	}
	if o.SignURL == nil {
		o.SignURL = func(id string) string { return "/sign/" + id }
	}
	if o.PrepareConcurrency <= 0 {
		o.PrepareConcurrency = runtime.GOMAXPROCS(0)
	}
	if o.PrepareTimeout <= 0 {
		o.PrepareTimeout = 10 * time.Second
	}
	if l, err := ParseLevel(o.Level); err == nil {
		o.Level = l
	} else {
		o.Level = LevelBB
	}
	s := &Service{st: st, profiles: profiles, o: o, prepares: make(chan struct{}, o.PrepareConcurrency)}
	s.seal.Store(seal)
	return s
}

// SetSeal makes seal the one every signature from now on is made with (seal rotation without a restart). A
// signature being made keeps the seal it began with.
func (s *Service) SetSeal(seal *signer.Seal) { s.seal.Store(seal) }

// Submission is a document an integrator asks to have signed.
type Submission struct {
	Document       []byte
	FileName       string
	Format         string // xades, pades or auto (default auto)
	SuccessURL     string
	FailureURL     string
	AdditionalInfo string
	// Webhook asks for a POST to SuccessURL (signed) or FailureURL (cancelled, expired, failed) when the request
	// ends (see Deliverer).
	Webhook bool
	// Level is the baseline level to seal at, up to Options.Level (empty: Options.Level).
	Level string
}

// Request is the integrator's and the holder's view of a signing request.
type Request struct {
	ID             string
	ClientID       string
	BatchID        string
	Status         string
	FileName       string
	Format         string
	ContentType    string
	Size           int64
	Digest         []byte
	ProfileID      string
	SuccessURL     string
	FailureURL     string
	AdditionalInfo string
	Created        time.Time
	Expires        time.Time
	SignedAt       *time.Time
	SignURL        string
	FailureReason  string
	Webhook        bool
	// Phrase is the verification phrase of the request's documents (the same one the code message shows).
	Phrase string
	// Level is the baseline level the document is (or will be) sealed at.
	Level string
	// TimeStamps are the seal's time-stamps, as the TSA gave them (each checked then: the TSA's signature and
	// certificate, the imprint, the nonce).
	TimeStamps []TimeStamp
	// SealFingerprint ("sha256:" and the hex SHA-256 of its certificate) and SealSubject name the seal that signed,
	// once signed (empty for requests signed before seals were recorded).
	SealFingerprint, SealSubject string
}

// TimeStamp is one time-stamp of a seal.
type TimeStamp struct {
	// Kind is "signature" (over the signature value), "archive" (XAdES B-LTA) or "document" (a PDF document
	// time-stamp, PAdES B-LTA).
	Kind string
	Time time.Time
	// TSA is the subject of the time-stamping authority's certificate.
	TSA string
}

// view is the request as shown to integrators and holders: the integrator's file name and additional information
// are neutralised (see Shown), whatever shows them (pages, API answers, downloads).
func (s *Service) view(r store.SigningRequest) Request {
	return Request{ID: r.ID, ClientID: r.ClientID, BatchID: r.BatchID, Status: r.Status, FileName: Shown(r.FileName),
		Format: r.Format, ContentType: r.ContentType, Size: r.DocumentSize, Digest: r.Digest, ProfileID: r.ProfileID,
		SuccessURL: r.SuccessURL, FailureURL: r.FailureURL, AdditionalInfo: ShownText(r.AdditionalInfo), Created: r.Created,
		Expires: r.Expires, SignedAt: r.SignedAt, SignURL: s.o.SignURL(r.ID), FailureReason: r.FailureReason, Webhook: r.Webhook,
		Phrase: profile.VerificationPhrase(r.Digest), Level: levelOf(r), TimeStamps: timeStampsOf(r),
		SealFingerprint: r.SealFingerprint, SealSubject: Shown(r.SealSubject)}
}

// levelOf is a request's level (b-b for records made before levels).
func levelOf(r store.SigningRequest) string {
	if r.Level == "" {
		return LevelBB
	}
	return r.Level
}

func timeStampsOf(r store.SigningRequest) []TimeStamp {
	var out []TimeStamp
	for _, t := range r.TimeStamps {
		out = append(out, TimeStamp{Kind: t.Kind, Time: t.Time, TSA: Shown(t.TSA)})
	}
	return out
}

// Shown makes an integrator's text (a file name) safe to show: control characters, Unicode bidirectional controls
// (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C), invisible (default-ignorable) characters such as U+200B or
// U+FEFF, and invalid UTF-8 become visible escapes (verify.Printable), so that "faktura\u202efdp.exe" cannot pass for
// "fakturaexe.pdf" wherever it is shown, nor "umo\u200bwa.pdf" for "umowa.pdf".
func Shown(s string) string { return verify.Printable(s) }

// ShownText is Shown for a text of several lines: line breaks stay, CR LF becomes LF.
func ShownText(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = verify.Printable(l)
	}
	return strings.Join(lines, "\n")
}

// newID returns a new identifier: 20 bytes, 32 characters of lower-case base32 (a-z, 2-7). The first 6 bytes
// are the clock's milliseconds, big-endian, and the other 14 (112 bits) are random, which is what makes an id
// unguessable. The time prefix only clusters the ids: ids made within a second or so share their first
// characters, so the requests being signed now sit next to each other in the store's key order (a few leaf pages
// of the B+tree written per commit, instead of one random page per request in each of the four buckets a
// request is kept in). It tells nothing the request does not show anyway (its creation time).
func (s *Service) newID() (string, error) {
	var b [20]byte
	ms := uint64(s.o.Clock.Now().UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	if _, err := io.ReadFull(s.o.Rand, b[6:]); err != nil {
		return "", err
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])), nil
}

func checkURL(field, u string) error {
	if u == "" {
		return nil
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || len(u) > 2048 {
		return &FieldError{field, "must be an absolute http(s) URL"}
	}
	return nil
}

// prepare validates a submission and returns the stored record (without id and batch).
func (s *Service) prepare(ctx context.Context, sub Submission, now time.Time) (store.SigningRequest, error) {
	if len(sub.Document) == 0 {
		return store.SigningRequest{}, &FieldError{"document", "is empty"}
	}
	if len(sub.Document) > s.o.MaxDocumentBytes {
		return store.SigningRequest{}, ErrTooLarge
	}
	name := filepath.Base(strings.ReplaceAll(strings.TrimSpace(sub.FileName), `\`, "/"))
	if name == "." || name == "/" || name == "" {
		name = "dokument"
	}
	if len(name) > 255 || strings.ContainsAny(name, "\x00\r\n") {
		return store.SigningRequest{}, &FieldError{"fileName", "is not a usable file name"}
	}
	if err := checkURL("successUrl", sub.SuccessURL); err != nil {
		return store.SigningRequest{}, err
	}
	if err := checkURL("failureUrl", sub.FailureURL); err != nil {
		return store.SigningRequest{}, err
	}
	if len(sub.AdditionalInfo) > 4096 {
		return store.SigningRequest{}, &FieldError{"additionalInfo", "is longer than 4096 characters"}
	}
	isPDF := bytes.HasPrefix(sub.Document, []byte("%PDF-"))
	format := strings.ToLower(sub.Format)
	switch format {
	case "", FormatAuto:
		format = FormatXAdES
		if isPDF {
			format = FormatPAdES
		}
	case FormatXAdES:
	case FormatPAdES:
		if !isPDF {
			return store.SigningRequest{}, fmt.Errorf("%w: pades needs a PDF document", ErrUnsupportedFormat)
		}
	default:
		return store.SigningRequest{}, &FieldError{"format", "must be xades, pades or auto"}
	}
	ct := contentType(name, sub.Document)
	if err := s.signable(ctx, format, name, ct, sub.Document, now); err != nil {
		return store.SigningRequest{}, err
	}
	if sub.Webhook && (sub.SuccessURL == "" || sub.FailureURL == "") {
		return store.SigningRequest{}, &FieldError{"webhook", "needs successUrl and failureUrl"}
	}
	level := s.o.Level
	if sub.Level != "" {
		var err error
		if level, err = ParseLevel(sub.Level); err != nil {
			return store.SigningRequest{}, &FieldError{"level", "must be b-b, b-t, b-lt or b-lta"}
		}
		if levelRank(level) > levelRank(s.o.Level) {
			return store.SigningRequest{}, fmt.Errorf("%w: %s asked, up to %s allowed", ErrLevelNotAllowed, level, s.o.Level)
		}
	}
	digest := sha256.Sum256(sub.Document)
	return store.SigningRequest{Webhook: sub.Webhook, Level: level, Status: store.RequestPending, FileName: name, Format: format, ContentType: ct,
		Digest: digest[:], SuccessURL: sub.SuccessURL, FailureURL: sub.FailureURL, AdditionalInfo: sub.AdditionalInfo,
		Created: now, Updated: now, Expires: now.Add(s.o.RequestTTL), Document: sub.Document, DocumentSize: int64(len(sub.Document))}, nil
}

// signable refuses at submission the documents seal1 could not sign at confirmation (the holder would otherwise be
// asked to approve, and spend a code on, a document that can never be signed, and every confirmation would answer
// as a seal outage). It runs the preparation the seal makes, without signing: for a PDF pades.Prepare with the
// seal's options (reading the document, its page tree, the stamp's page, box and appearance, the form and its
// permissions); for XAdES the document as seal1 signs it (the XML itself, or any other file in the XML container),
// within the size a verifier reads (see xmlContainer), parsed with the seal's limits and its covered content
// canonicalized (xades.Prepare). At most Options.PrepareConcurrency preparations run at once, a PDF's within
// sealLimits, an XML one within xmldoc's limits (linear in the document); a submission whose documents take longer
// than Options.PrepareTimeout together is refused (a preparation keeps its slot until it ends, so slow documents
// cannot pile up).
func (s *Service) signable(ctx context.Context, format, name, contentType string, doc []byte, now time.Time) error {
	if ctx.Err() != nil {
		return prepareTimeout(ctx)
	}
	select {
	case s.prepares <- struct{}{}:
	case <-ctx.Done():
		return prepareTimeout(ctx)
	}
	res := make(chan error, 1)
	go func() {
		defer func() { <-s.prepares }()
		defer func() {
			if p := recover(); p != nil {
				cause := errDocument
				if format == FormatPAdES {
					cause = pdf.ErrMalformed
				}
				res <- fmt.Errorf("%w: preparing the signature panicked: %v", cause, p)
			}
		}()
		if format == FormatPAdES {
			res <- pades.Prepare(ctx, bytes.NewReader(doc), int64(len(doc)), s.padesOptions(placeholderHolder, now))
			return
		}
		container, _, err := xmlContainer(name, contentType, doc)
		if err == nil {
			err = xades.Prepare(container, s.xadesOptions(placeholderHolder, now, ""))
		}
		res <- err
	}()
	select {
	case err := <-res:
		return refusal(err)
	case <-ctx.Done():
		return prepareTimeout(ctx)
	}
}

// prepareTimeout is the error of a submission whose PDFs were not all prepared within Options.PrepareTimeout (or
// whose client went away).
func prepareTimeout(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && errors.Is(context.Cause(ctx), errPrepareTime) {
		return &FieldError{"document", "takes too long to prepare for signing"}
	}
	return ctx.Err()
}

var errPrepareTime = errors.New("signing: the submission's PDFs took too long to prepare")

// placeholderHolder stands for the holder, not known at submission, when a PDF's signature is prepared: the stamp
// fits any name to its box.
var placeholderHolder = profile.Profile{ID: "0", FirstName: "Imię", Surname: "Nazwisko", PESEL: "00000000000", Login: "login"}

// refusal says why pades.Prepare or xades.Prepare refused a document, in a fixed sentence for the integrator.
func refusal(err error) error {
	if err == nil {
		return nil
	}
	for _, r := range []struct {
		err    error
		reason string
	}{
		{pades.ErrEncrypted, "is an encrypted PDF"},
		{pades.ErrNoSuchPage, "is a PDF without pages"},
		{pades.ErrPageBox, "is a PDF whose last page has no box that can show the signature stamp"},
		{pades.ErrNotPermitted, "is a certified PDF that allows no changes: a signature would break its certification"},
		{pades.ErrCertificationNotFirst, "is a PDF that cannot take another certification"},
		{pades.ErrFieldExists, "is a PDF whose form already has the signature field"},
		{pdf.ErrLimit, "is a PDF beyond the reader's limits"},
		{pdf.ErrNotPDF, "is not a readable PDF"},
		{pdf.ErrMalformed, "is not a readable PDF (its structure or page tree is broken)"},
		{errXMLTooLarge, fmt.Sprintf("is too large to sign in XML: the signed document would exceed the %d bytes a verifier "+
			"reads (a file that is not XML is carried in base64, a third larger, so such files are limited to about %d bytes)",
			verify.DefaultMaxXMLBytes, maxWrappedContent)},
		{xmldoc.ErrRelativeNamespace, "is XML with a relative or malformed namespace URI, which XML canonicalization cannot sign"},
		{xmldoc.ErrTooLarge, "is XML beyond the signer's size limit"},
		{xmldoc.ErrTooDeep, "is XML nested deeper than the signer's limit"},
		{xmldoc.ErrTooMany, "is XML with more attributes, namespace declarations or nodes than the signer's limits"},
		{xmldoc.ErrTooDense, "is XML whose markup is too dense for the signer's limits"},
		{xmldoc.ErrTooManyFilterSteps, "is XML the signer cannot canonicalize"},
		{xades.ErrNotXML, "is XML the signer cannot read"},
		{errDocument, "cannot be prepared for signing"},
	} {
		if errors.Is(err, r.err) {
			return fmt.Errorf("%w: %w", &FieldError{"document", r.reason}, err)
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	// the seal's own options were refused: no document could be signed now
	return fmt.Errorf("%w: preparing a PDF signature: %w", ErrSealUnavailable, err)
}

func contentType(name string, data []byte) string {
	if bytes.HasPrefix(data, []byte("%PDF-")) {
		return "application/pdf"
	}
	if t := mime.TypeByExtension(strings.ToLower(filepath.Ext(name))); t != "" {
		return strings.SplitN(t, ";", 2)[0]
	}
	return strings.SplitN(http.DetectContentType(data), ";", 2)[0]
}

// Submit stores a new signing request for clientID (the prepare step: nothing is signed yet).
func (s *Service) Submit(ctx context.Context, clientID string, sub Submission) (Request, error) {
	reqs, err := s.SubmitBatch(ctx, clientID, []Submission{sub})
	if err != nil {
		return Request{}, err
	}
	return reqs[0], nil
}

// SubmitBatch stores several documents that one code will confirm together. With one document no batch is made.
func (s *Service) SubmitBatch(ctx context.Context, clientID string, subs []Submission) ([]Request, error) {
	if len(subs) == 0 || len(subs) > s.o.MaxBatch {
		return nil, &FieldError{"documents", fmt.Sprintf("must hold 1 to %d documents", s.o.MaxBatch)}
	}
	now := s.o.Clock.Now()
	batchID := ""
	if len(subs) > 1 {
		id, err := s.newID()
		if err != nil {
			return nil, err
		}
		batchID = "b" + id[:16]
	}
	// the PDFs of one submission are prepared within one PrepareTimeout (see signable)
	pctx, cancel := context.WithTimeoutCause(ctx, s.o.PrepareTimeout, errPrepareTime)
	defer cancel()
	var recs []store.SigningRequest
	for i, sub := range subs {
		r, err := s.prepare(pctx, sub, now)
		if err != nil {
			var fe *FieldError
			if len(subs) > 1 && errors.As(err, &fe) {
				fe.Field = fmt.Sprintf("documents[%d].%s", i, fe.Field)
			}
			return nil, err
		}
		if r.ID, err = s.newID(); err != nil {
			return nil, err
		}
		r.ClientID, r.BatchID = clientID, batchID
		recs = append(recs, r)
	}
	// the store lists a batch in id order: hand the ids out sorted, so that the holder sees (and the verification
	// phrase covers) the documents in the order the integrator submitted them
	ids := make([]string, len(recs))
	for i := range recs {
		ids[i] = recs[i].ID
	}
	sort.Strings(ids)
	for i := range recs {
		recs[i].ID = ids[i]
	}
	var out []Request
	for _, r := range recs {
		ev := audit.Event{Time: now, Kind: "signature.request", Actor: "client:" + clientID, Subject: r.ID,
			Details: map[string]string{"format": r.Format, "size": fmt.Sprint(len(r.Document)), "digest": fmt.Sprintf("%x", r.Digest)}}
		if err := s.st.CreateSigningRequest(ctx, r, ev); err != nil {
			return nil, err
		}
		out = append(out, s.view(r))
	}
	return out, nil
}

// Get returns a client's request.
func (s *Service) Get(ctx context.Context, clientID, id string) (Request, error) {
	r, err := s.st.GetSigningRequest(ctx, clientID, id)
	if err != nil {
		return Request{}, mapStore(err)
	}
	return s.view(s.expireView(r)), nil
}

// expireView shows a pending request past its expiry as expired (the sweep makes it so in storage).
func (s *Service) expireView(r store.SigningRequest) store.SigningRequest {
	if r.Status == store.RequestPending && !s.o.Clock.Now().Before(r.Expires) {
		r.Status = store.RequestExpired
	}
	return r
}

// SignedDocument returns a client's signed document and its media type; ErrNotReady before signing.
func (s *Service) SignedDocument(ctx context.Context, clientID, id string) ([]byte, string, error) {
	r, err := s.st.GetSignedDocument(ctx, clientID, id)
	if err != nil {
		var ce *store.ConflictError
		if errors.As(err, &ce) {
			return nil, "", ErrNotReady
		}
		return nil, "", mapStore(err)
	}
	return r.Signed, r.SignedContentType, nil
}

func mapStore(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	return err
}

// Preview is what the holder sees before approving.
type Preview struct {
	Requests []Request
	// Documents are the documents to be signed, in the order of Requests.
	Documents [][]byte
	// Phrase is the verification phrase of all the documents together (the one the code message shows).
	Phrase string
}

// Preview returns the request (and the rest of its batch) for a holder. The request id is the capability the
// integrator handed to the holder; once a holder has taken it up, only that holder may see it.
func (s *Service) Preview(ctx context.Context, profileID, id string) (Preview, error) {
	reqs, err := s.batchForHolder(ctx, profileID, id)
	if err != nil {
		return Preview{}, err
	}
	var p Preview
	var digests [][]byte
	for _, r := range reqs {
		p.Requests = append(p.Requests, s.view(s.expireView(r)))
		p.Documents = append(p.Documents, r.Document)
		digests = append(digests, r.Digest)
	}
	p.Phrase = profile.VerificationPhrase(digests...)
	return p, nil
}

// batchForHolder loads a request with its batch companions, with documents, checking the holder.
func (s *Service) batchForHolder(ctx context.Context, profileID, id string) ([]store.SigningRequest, error) {
	r, err := s.st.GetSigningRequestForHolder(ctx, id)
	if err != nil {
		return nil, mapStore(err)
	}
	if r.ProfileID != "" && r.ProfileID != profileID {
		return nil, ErrOtherHolder
	}
	if r.BatchID == "" {
		return s.closeIfClientDisabled(ctx, []store.SigningRequest{r})
	}
	members, err := s.st.ListSigningRequestsInBatch(ctx, r.ClientID, r.BatchID)
	if err != nil {
		return nil, err
	}
	var out []store.SigningRequest
	for _, m := range members {
		full, err := s.st.GetSigningRequestForHolder(ctx, m.ID)
		if err != nil {
			return nil, mapStore(err)
		}
		if full.ProfileID != "" && full.ProfileID != profileID {
			return nil, ErrOtherHolder
		}
		out = append(out, full)
	}
	return s.closeIfClientDisabled(ctx, out)
}

// reasonClientDisabled is the FailureReason of the requests closed because their client was disabled.
const reasonClientDisabled = "the integrator's client was disabled"

// clientDisabled tells whether an administrator disabled the client (profile.Service.DisableClient): its key no
// longer works, and nothing it filed may be signed or notified either. A client the store does not hold (the demo
// integrator) is not disabled.
func (s *Service) clientDisabled(ctx context.Context, clientID string) (bool, error) {
	c, err := s.profiles.Client(ctx, clientID)
	if errors.Is(err, profile.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return c.Disabled, nil
}

// closeIfClientDisabled ends the pending requests of one batch (one client) whose client was disabled: they become
// failed (audited, no notification), so that the holder's page shows them as closed and a code can no longer be
// asked for or redeemed (Confirm also checks the client in the transaction that stores the seals).
func (s *Service) closeIfClientDisabled(ctx context.Context, reqs []store.SigningRequest) ([]store.SigningRequest, error) {
	disabled, err := s.clientDisabled(ctx, reqs[0].ClientID)
	if err != nil || !disabled {
		return reqs, err
	}
	now := s.o.Clock.Now()
	for i, r := range reqs {
		if r.Status != store.RequestPending {
			continue
		}
		x, err := s.st.SetSigningRequestStatus(ctx, r.ID, store.RequestPending, store.RequestFailed, func(x *store.SigningRequest) {
			x.FailureReason, x.Updated = reasonClientDisabled, now
		}, audit.Event{Time: now, Kind: "signature.failed", Actor: "system", Subject: r.ID,
			Details: map[string]string{"format": r.Format, "client": r.ClientID, "reason": "client disabled"}})
		var ce *store.ConflictError
		switch {
		case errors.As(err, &ce):
			// closed meanwhile: read what it became
			if x, err = s.st.GetSigningRequestForHolder(ctx, r.ID); err != nil {
				return nil, mapStore(err)
			}
		case err != nil:
			return nil, mapStore(err)
		}
		reqs[i].Status, reqs[i].FailureReason, reqs[i].Updated, reqs[i].SignedAt = x.Status, x.FailureReason, x.Updated, x.SignedAt
	}
	return reqs, nil
}

func bindings(reqs []store.SigningRequest) []profile.SigningDocument {
	var docs []profile.SigningDocument
	for _, r := range reqs {
		docs = append(docs, profile.SigningDocument{RequestID: r.ID, Name: r.FileName, Digest: r.Digest})
	}
	return docs
}

func (s *Service) pending(reqs []store.SigningRequest) error {
	now := s.o.Clock.Now()
	for _, r := range reqs {
		if r.Status != store.RequestPending || !now.Before(r.Expires) {
			return ErrClosed
		}
	}
	return nil
}

// RequestCode takes the request (and its batch) up for the holder and sends the holder one code approving all its
// documents.
func (s *Service) RequestCode(ctx context.Context, profileID, id string) (profile.CodeInfo, error) {
	reqs, err := s.batchForHolder(ctx, profileID, id)
	if err != nil {
		return profile.CodeInfo{}, err
	}
	if err := s.pending(reqs); err != nil {
		return profile.CodeInfo{}, err
	}
	now := s.o.Clock.Now()
	var unbound []store.SigningRequest
	for _, r := range reqs {
		if r.ProfileID != profileID {
			unbound = append(unbound, r)
		}
	}
	// bind the requests to this holder (compare-and-set keeps a second holder out), in one transaction that need
	// not be durable before the code is issued, only with it: the code's commit carries it (or comes after it, and
	// is refused when it was lost), so the code is asked for without waiting for a commit of its own
	issueCtx, bound := ctx, func() error { return nil }
	if len(unbound) > 0 {
		var err error
		issueCtx, bound, err = s.st.UpdateAhead(ctx, func(tx *store.Tx) error {
			for _, r := range unbound {
				// the returned record is the one stored by this transaction, so it says who holds the request now
				x, err := tx.CompareAndSetStatus(r.ID, store.RequestPending, store.RequestPending, func(x *store.SigningRequest) {
					if x.ProfileID == "" {
						x.ProfileID, x.Updated = profileID, now
					}
				})
				if err != nil {
					return err
				}
				if x.ProfileID != profileID {
					return ErrOtherHolder // another holder's: nothing of the batch is bound
				}
			}
			return nil
		})
		if errors.Is(err, ErrOtherHolder) {
			return profile.CodeInfo{}, ErrOtherHolder
		}
		if err != nil {
			return profile.CodeInfo{}, s.mapTransition(err)
		}
	}
	info, err := s.profiles.IssueBatchSigningCode(issueCtx, profileID, bindings(reqs))
	if berr := bound(); berr != nil && err == nil {
		// the code was not committed either (it came after the binding in the same writer); say why
		return profile.CodeInfo{}, berr
	}
	return info, err
}

func (s *Service) mapTransition(err error) error {
	var ce *store.ConflictError
	if errors.As(err, &ce) {
		return ErrClosed
	}
	return mapStore(err)
}

// Confirm redeems the code and, only then, seals every document of the request's batch, bound to the holder's
// trusted profile. Two concurrent confirmations with the right code make exactly one set of signatures.
func (s *Service) Confirm(ctx context.Context, profileID, id, code string) ([]Request, error) {
	reqs, err := s.batchForHolder(ctx, profileID, id)
	if err != nil {
		return nil, err
	}
	if err := s.pending(reqs); err != nil {
		return nil, err
	}
	for _, r := range reqs {
		if r.ProfileID != profileID {
			// no code was asked for this holder: nothing can be redeemed
			return nil, profile.ErrInvalidCode
		}
	}
	// The code is checked first (a wrong one counts), the documents are sealed, and only then is the code spent, in
	// the transaction that stores the seals: a seal that fails changes nothing, and a stored seal always has its code
	// spent. Two confirmations racing with the right code may both seal, but only one can spend the code and store.
	if err := s.profiles.CheckBatchSigningCode(ctx, profileID, bindings(reqs), code); err != nil {
		return nil, err
	}
	holder, err := s.profiles.Get(ctx, profileID)
	if err != nil {
		return nil, err
	}
	// seal every document before storing any, so that a batch is signed all together or not at all
	type sealed struct {
		data   []byte
		ct     string
		stamps []store.SealTimeStamp
		// the seal that signed: its certificate's fingerprint and subject (worked out here, not in the store
		// transaction, which runs on the store's one writer)
		sealFingerprint, sealSubject string
	}
	docs := make([]sealed, len(reqs))
	errs := make([]error, len(reqs))
	sealAt := func(i int) {
		var d sealed
		var by *x509.Certificate
		d.data, d.ct, d.stamps, by, errs[i] = s.seal1(ctx, reqs[i], holder)
		if by != nil {
			sum := sha256.Sum256(by.Raw)
			d.sealFingerprint, d.sealSubject = "sha256:"+hex.EncodeToString(sum[:]), by.Subject.String()
		}
		docs[i] = d
	}
	if len(reqs) > 1 && s.o.TimeStamp != nil {
		// a time-stamped batch waits for the TSA once per document: its documents are sealed concurrently (as many
		// at once as there are CPUs), so the round trips overlap
		sem := make(chan struct{}, runtime.GOMAXPROCS(0))
		var wg sync.WaitGroup
		for i := range reqs {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				defer func() { // no request goroutine's recovery reaches here: a panic is this document's failure
					if p := recover(); p != nil {
						errs[i] = fmt.Errorf("%w: sealing panicked: %v", errDocument, p)
					}
				}()
				sealAt(i)
			})
		}
		wg.Wait()
	} else {
		for i := range reqs {
			if sealAt(i); errs[i] != nil {
				break
			}
		}
	}
	for i, err := range errs {
		if err == nil {
			continue
		}
		if unsealable(err) {
			// only a document stored before submissions were checked (see signable) can get here
			return nil, s.failBatch(ctx, profileID, reqs, reqs[i].ID, err)
		}
		s.sealTrouble(ctx, profileID, reqs, err)
		return nil, fmt.Errorf("%w: %w", ErrSealUnavailable, err)
	}
	var done []store.SigningRequest
	err = s.profiles.RedeemBatchSigningCodeAnd(ctx, profileID, bindings(reqs), code, func(tx *store.Tx) error {
		done = done[:0]
		now := s.o.Clock.Now()
		// the client disabled while the documents were sealed: nothing is stored, the code is not spent
		if c, err := tx.GetClient(reqs[0].ClientID); err == nil && c.Disabled {
			return fmt.Errorf("%w: %s", ErrClosed, reasonClientDisabled)
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		for i, r := range reqs {
			d, err := tx.AttachSigned(r.ID, store.RequestPending, docs[i].data, docs[i].ct, now, func(x *store.SigningRequest) {
				x.TimeStamps, x.SealFingerprint, x.SealSubject = docs[i].stamps, docs[i].sealFingerprint, docs[i].sealSubject
			})
			if err != nil {
				return err
			}
			if err := tx.Audit(audit.Event{Time: now, Kind: "signature.create", Actor: "holder:" + profileID, Subject: r.ID,
				Details: map[string]string{"format": r.Format, "level": levelOf(r), "digest": fmt.Sprintf("%x", r.Digest), "client": r.ClientID}}); err != nil {
				return err
			}
			if err := s.oweWebhook(tx, d, now); err != nil {
				return err
			}
			done = append(done, d)
		}
		return nil
	})
	if err != nil {
		var ce *store.ConflictError
		switch {
		case errors.As(err, &ce), errors.Is(err, store.ErrNotFound):
			return nil, s.mapTransition(err)
		case errors.Is(err, ErrClosed), isCodeError(err):
			return nil, err
		}
		// the transaction did not commit (disk full, store closed...): neither the code nor the requests changed
		s.sealTrouble(ctx, profileID, reqs, err)
		return nil, fmt.Errorf("%w: storing the seal: %w", ErrSealUnavailable, err)
	}
	var out []Request
	for _, d := range done {
		s.notify(ctx, d)
		out = append(out, s.view(d))
	}
	return out, nil
}

// isCodeError tells the profile service's answers about the code and the holder from a failure of the store.
func isCodeError(err error) bool {
	for _, e := range []error{profile.ErrInvalidCode, profile.ErrThrottled, profile.ErrNotActive, profile.ErrNotFound,
		profile.ErrInvalid, profile.ErrForbidden} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// unsealable tells a document that can never be sealed (what signable refuses at submission) from a seal that
// cannot be made now.
func unsealable(err error) bool {
	if errors.Is(err, errExtend) {
		return false // the document was sealed: what failed was the TSA or the validation data
	}
	for _, e := range []error{pdf.ErrMalformed, pdf.ErrLimit, pdf.ErrNotPDF, pades.ErrEncrypted, pades.ErrNoSuchPage,
		pades.ErrPageBox, pades.ErrNotPermitted, pades.ErrCertificationNotFirst, pades.ErrFieldExists,
		errXMLTooLarge, errDocument, xades.ErrNotXML, xmldoc.ErrRelativeNamespace, xmldoc.ErrTooManyFilterSteps} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// failBatch ends every request of a batch holding a document that cannot be sealed: the integrator is told, the
// code is not spent (it approves a batch that is no longer pending).
func (s *Service) failBatch(ctx context.Context, profileID string, reqs []store.SigningRequest, badID string, cause error) error {
	now := s.o.Clock.Now()
	for _, m := range reqs {
		s.end(ctx, m.ID, store.RequestFailed, func(x *store.SigningRequest) { //nolint:errcheck // no longer pending: nothing to end
			x.FailureReason, x.Updated = "the document could not be signed", now
			if m.ID != badID {
				x.FailureReason = "another document of the batch could not be signed"
			}
		}, audit.Event{Time: now, Kind: "signature.failed", Actor: "holder:" + profileID, Subject: m.ID,
			Details: map[string]string{"format": m.Format}})
	}
	return fmt.Errorf("%w: %w", ErrUnsupportedFormat, cause)
}

// sealTrouble records in the audit log that a confirmation could not be sealed now (the requests stay pending).
func (s *Service) sealTrouble(ctx context.Context, profileID string, reqs []store.SigningRequest, cause error) {
	now := s.o.Clock.Now()
	for _, r := range reqs {
		// a pending-to-pending transition only carries the audit record; a request that is no longer pending needs none
		s.st.SetSigningRequestStatus(ctx, r.ID, store.RequestPending, store.RequestPending, nil, //nolint:errcheck
			audit.Event{Time: now, Kind: "signature.unavailable", Actor: "holder:" + profileID, Subject: r.ID,
				Details: map[string]string{"format": r.Format, "error": cause.Error()}})
	}
}

// end moves a pending request to a final status, in one transaction with its audit record and the webhook
// delivery it owes (oweWebhook), and then notifies.
func (s *Service) end(ctx context.Context, id, to string, mutate func(*store.SigningRequest), ev audit.Event) (store.SigningRequest, error) {
	var r store.SigningRequest
	err := s.st.Update(ctx, func(tx *store.Tx) (err error) {
		if r, err = tx.CompareAndSetStatus(id, store.RequestPending, to, mutate); err != nil {
			return err
		}
		if err := tx.Audit(ev); err != nil {
			return err
		}
		return s.oweWebhook(tx, r, ev.Time)
	})
	if err != nil {
		return r, err
	}
	s.notify(ctx, r)
	return r, nil
}

// oweWebhook records, in the transaction that ended r, the webhook delivery r owes (with Options.Webhooks, for a
// request submitted with Webhook set whose client is not disabled: a disabled integrator is sent nothing).
func (s *Service) oweWebhook(tx *store.Tx, r store.SigningRequest, now time.Time) error {
	if s.o.Webhooks == nil {
		return nil
	}
	target, body := webhookTarget(r.ID, r.BatchID, r.Status, r.SignedAt, r.Webhook, r.SuccessURL, r.FailureURL)
	if target == "" {
		return nil
	}
	if c, err := tx.GetClient(r.ClientID); err == nil && c.Disabled {
		return nil
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	id, err := s.newID()
	if err != nil {
		return err
	}
	return tx.AddWebhookDelivery(store.WebhookDelivery{ID: id, RequestID: r.ID, ClientID: r.ClientID, URL: target,
		Body: body, Created: now, Due: now})
}

// notify, after r's end was committed, kicks the Deliverer (Options.Webhooks) and tells Options.Notify, unless
// r's client was disabled: a disabled integrator is sent nothing.
func (s *Service) notify(ctx context.Context, r store.SigningRequest) {
	if s.o.Webhooks != nil && r.Webhook {
		s.o.Webhooks.Kick()
	}
	if s.o.Notify == nil {
		return
	}
	if disabled, err := s.clientDisabled(ctx, r.ClientID); err != nil || disabled {
		return
	}
	s.o.Notify(ctx, s.view(r))
}

// Cancel ends a pending request at the holder's wish (the integrator is sent to its failure URL).
func (s *Service) Cancel(ctx context.Context, profileID, id string) (Request, error) {
	reqs, err := s.batchForHolder(ctx, profileID, id)
	if err != nil {
		return Request{}, err
	}
	var first Request
	now := s.o.Clock.Now()
	for i, r := range reqs {
		c, err := s.end(ctx, r.ID, store.RequestCancelled, func(x *store.SigningRequest) {
			x.FailureReason, x.Updated = "cancelled by the profile holder", now
			if x.ProfileID == "" {
				x.ProfileID = profileID
			}
		}, audit.Event{Time: now, Kind: "signature.cancel", Actor: "holder:" + profileID, Subject: r.ID})
		if err != nil {
			return Request{}, s.mapTransition(err)
		}
		if i == 0 {
			first = s.view(c)
		}
	}
	return first, nil
}

// Sweep marks pending requests past their expiry as expired and deletes finished requests older than keep.
func (s *Service) Sweep(ctx context.Context, keep time.Duration) (expired, deleted int, err error) {
	now := s.o.Clock.Now()
	list, err := s.st.ListExpiredSigningRequests(ctx, now, 1000)
	if err != nil {
		return 0, 0, err
	}
	for _, r := range list {
		switch {
		case r.Status == store.RequestPending:
			_, err := s.end(ctx, r.ID, store.RequestExpired, func(x *store.SigningRequest) {
				x.FailureReason, x.Updated = "the request expired", now
				x.Expires = now.Add(keep)
			}, audit.Event{Time: now, Kind: "signature.expire", Actor: "system", Subject: r.ID})
			if err == nil {
				expired++
			}
		case r.Status == store.RequestSigned && r.Expires.Before(now.Add(-keep)),
			r.Status != store.RequestSigned:
			if err := s.st.DeleteSigningRequest(ctx, r.ID, audit.Event{Time: now, Kind: "signature.delete", Actor: "system", Subject: r.ID}); err == nil {
				deleted++
			}
		}
	}
	return expired, deleted, nil
}

// seal1 makes the signature of one document for the holder, at the request's level: time-stamped above b-b,
// then extended with the validation data (and the archive time-stamp) for b-lt and b-lta. It runs outside any
// store transaction; the time-stamps it got are returned to be recorded with the seal.
func (s *Service) seal1(ctx context.Context, r store.SigningRequest, holder profile.Profile) ([]byte, string, []store.SealTimeStamp, *x509.Certificate, error) {
	now := s.o.Clock.Now()
	level := levelOf(r)
	if levelRank(level) > levelRank(LevelBB) && s.o.TimeStamp == nil {
		return nil, "", nil, nil, fmt.Errorf("level %s without a time-stamping authority configured", level)
	}
	extend := level == LevelBLT || level == LevelBLTA
	if extend && s.o.Validation == nil {
		return nil, "", nil, nil, fmt.Errorf("level %s without a validation data source configured", level)
	}
	rec := &stampRecorder{stamp: s.o.TimeStamp, kind: "signature"}
	switch r.Format {
	case FormatPAdES:
		var out bytes.Buffer
		o := s.padesOptions(holder, now)
		if s.o.DemoClientID != "" && r.ClientID == s.o.DemoClientID {
			o = demoPAdES(o)
		}
		if level != LevelBB {
			o.TimeStamp = rec.call
		}
		if _, err := pades.Sign(ctx, bytes.NewReader(r.Document), int64(len(r.Document)), &out, o); err != nil {
			return nil, "", nil, nil, err
		}
		if extend {
			signed := out.Bytes()
			var ext bytes.Buffer
			rec.kind = "document"
			lim := sealLimits
			if err := pades.Extend(ctx, bytes.NewReader(signed), int64(len(signed)), &ext, pades.ExtendOptions{Level: level,
				TimeStamp: rec.call, Validation: s.o.Validation, Limits: &lim}); err != nil {
				return nil, "", nil, nil, fmt.Errorf("%w: %w", errExtend, err)
			}
			out = ext
		}
		return out.Bytes(), "application/pdf", rec.got, o.Certificate, nil
	default:
		doc, mimeType, err := xmlContainer(r.FileName, r.ContentType, r.Document)
		if err != nil {
			return nil, "", nil, nil, err
		}
		o := s.xadesOptions(holder, now, mimeType)
		if level != LevelBB {
			o.TimeStamp = rec.call
		}
		out, err := xades.SignContext(ctx, doc, o)
		if err == nil && extend {
			rec.kind = "archive"
			if out, err = xades.Extend(ctx, out, xades.ExtendOptions{Level: level, TimeStamp: rec.call, Validation: s.o.Validation}); err != nil {
				err = fmt.Errorf("%w: %w", errExtend, err)
			}
		}
		if err == nil && len(out) > verify.DefaultMaxXMLBytes {
			err = fmt.Errorf("%w: the signed XML is %d bytes", errXMLTooLarge, len(out))
		}
		return out, "application/xml", rec.got, o.Certificate, err
	}
}

// errExtend marks a failure of extending a fresh seal to b-lt or b-lta: the document was signed, so the cause is
// the validation data or the TSA, never the document (unsealable does not list it).
var errExtend = errors.New("signing: extending the seal")

// stampRecorder is the TimeStamp option of one seal: it asks Options.TimeStamp and keeps what each token says.
type stampRecorder struct {
	stamp func(ctx context.Context, imprint []byte) (*tsa.Token, error)
	kind  string
	got   []store.SealTimeStamp
}

func (r *stampRecorder) call(ctx context.Context, imprint []byte) ([]byte, error) {
	tok, err := r.stamp(ctx, imprint)
	if err != nil {
		return nil, err
	}
	st := store.SealTimeStamp{Kind: r.kind, Time: tok.Time}
	if tok.Certificate != nil {
		st.TSA = tok.Certificate.Subject.String()
	}
	r.got = append(r.got, st)
	return tok.DER, nil
}

// xadesOptions are the options of the XAdES seal for holder at now; submission prepares with the same ones.
func (s *Service) xadesOptions(holder profile.Profile, now time.Time, mimeType string) xades.SignOptions {
	o := xades.SignOptions{Format: xades.Enveloped, SigningTime: now, MIMEType: mimeType,
		Profile: &xades.Profile{FirstName: holder.FirstName, SecondName: holder.SecondName, Surname: holder.Surname,
			PESEL: holder.PESEL, ProfileID: holder.ID, Login: holder.Login}}
	if seal := s.seal.Load(); seal != nil {
		o.Signer, o.Certificate, o.Chain = seal.Key, seal.Certificate, seal.Chain[1:]
	}
	return o
}

// xmlContainer is the XML document seal1 signs for doc: doc itself when it is well-formed XML, or else doc in the
// XML container (xades.Wrap). The signed document must stay within what a verifier reads (verify.DefaultMaxXMLBytes,
// as the CLI's sign keeps it): a container (base64, a third larger) that leaves less than signatureReserve for the
// signature is refused with errXMLTooLarge.
func xmlContainer(name, contentType string, doc []byte) (container []byte, mimeType string, err error) {
	container, mimeType = doc, "text/xml"
	if !wellFormedXML(doc) {
		if base64Size(len(doc)) > verify.DefaultMaxXMLBytes-signatureReserve {
			// refused before wrapping: the container would not fit anyway
			return nil, "", fmt.Errorf("%w: a file of %d bytes in the XML container", errXMLTooLarge, len(doc))
		}
		container = xades.Wrap(name, contentType, doc)
	}
	if len(container) > verify.DefaultMaxXMLBytes-signatureReserve {
		return nil, "", fmt.Errorf("%w: an XML document of %d bytes", errXMLTooLarge, len(container))
	}
	return container, mimeType, nil
}

// signatureReserve is the room left for the enveloped signature (its properties and the seal's certificates, a few
// kilobytes) within verify.DefaultMaxXMLBytes.
const signatureReserve = 64 << 10

// maxWrappedContent is about the largest file that is not XML whose container stays within the limit.
const maxWrappedContent = (verify.DefaultMaxXMLBytes - signatureReserve - 1024) / 4 * 3 * 76 / 77

// base64Size is the size of n bytes in base64 lines of 76 (the content of the XML container, without its header).
func base64Size(n int) int {
	enc := (n + 2) / 3 * 4
	return enc + enc/76
}

var (
	// errXMLTooLarge: the signed XML would exceed what a verifier reads.
	errXMLTooLarge = errors.New("signing: the signed XML would exceed the verifier's size limit")
	// errDocument: preparing the document's signature failed in a way no retry changes (a panic).
	errDocument = errors.New("signing: the document cannot be prepared for signing")
)

// sealLimits bound the reading of a PDF to seal (and to check at submission): preparing a signature parses the
// page tree and the form, so 50,000 objects is far beyond any document a person approves, and keeps a hostile
// page tree to a few seconds and a few hundred MB (250,000 pages cost 17 s and 1.3 GB before).
var sealLimits = pdf.Limits{MaxObjectLoads: 50_000}

// padesOptions are the options of the PAdES seal for holder at now; submission prepares with the same ones.
func (s *Service) padesOptions(holder profile.Profile, now time.Time) pades.SignOptions {
	lim := sealLimits
	seal := s.seal.Load()
	return pades.SignOptions{Signer: seal.Key, Certificate: seal.Certificate, Chain: seal.Chain[1:], Time: now, Limits: &lim,
		Profile: &pades.Profile{FirstName: holder.FirstName, SecondName: holder.SecondName, Surname: holder.Surname,
			PESEL: holder.PESEL, ProfileID: holder.ID, Login: holder.Login}, SealPhrase: s.o.SealPhrase}
}

// demoPAdES marks the seal's options as a demonstration's (see Options.DemoClientID). Submission prepares with the
// ordinary ones: the stamp's texts are fitted to its box, so they change nothing that could refuse a PDF.
func demoPAdES(o pades.SignOptions) pades.SignOptions {
	phrase := o.SealPhrase
	if phrase == "" {
		phrase = pades.DefaultSealPhrase
	}
	o.SealPhrase, o.StampTitle, o.StampFooter = DemoSealPhrase+phrase, demoStampTitle, demoStampFooter
	return o
}

// wellFormedXML tells whether a document gets an enveloped signature; anything else (including text that starts
// like XML but does not parse, or has a DTD) is signed as a file inside the XML container.
func wellFormedXML(data []byte) bool {
	if !looksLikeXML(data) {
		return false
	}
	d, err := xmldoc.Parse(data, xmldoc.Limits{})
	if err != nil {
		return false
	}
	d.Release() // only the answer is kept: the tree's memory goes back to the parser's pool
	return true
}

func looksLikeXML(data []byte) bool {
	d := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF")), " \t\r\n")
	return len(d) > 0 && d[0] == '<'
}
