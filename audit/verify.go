package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"
)

// BrokenError names the first broken record. errors.Is(err, ErrBroken) holds for it.
type BrokenError struct {
	// Seq is the sequence number where the chain breaks (the expected one when a record is missing).
	Seq uint64
	// Line is the 1-based line in an export (0 when verifying a store).
	Line   int
	Reason string
	// Stale is set when the chain itself is intact but its newest seal is older than the seal interval allows
	// (the end of the log may have been cut off); errors.Is(err, ErrStaleSeal) holds then.
	Stale bool
}

func (e *BrokenError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("audit: chain broken at record %d (line %d): %s", e.Seq, e.Line, e.Reason)
	}
	return fmt.Sprintf("audit: chain broken at record %d: %s", e.Seq, e.Reason)
}

// Is makes errors.Is(err, ErrBroken) true.
func (e *BrokenError) Is(target error) bool {
	return target == ErrBroken || (e.Stale && target == ErrStaleSeal)
}

// ErrStaleSeal is matched by the *BrokenError of a log whose newest seal is too old (see VerifyOptions.SealInterval).
var ErrStaleSeal = errors.New("audit: newest seal too old")

// VerifyOptions configures verification.
type VerifyOptions struct {
	// TrustedKeys, when set, are the only keys whose seals are accepted (pin the service's seal certificate here;
	// without it a seal proves only that whoever wrote the log held some key).
	TrustedKeys []crypto.PublicKey
	// Heads are signed heads known from elsewhere (the store's head copies, an earlier export): each must match
	// the chain, and one past its end shows that the log was cut.
	Heads []Record
	// ChainKey checks the records' MACs (see ChainKey): from its KeyedFrom on every record must carry the right
	// one. Without it MACs are not checked (Report.MACsNotChecked counts them), so a chain recomputed by someone
	// who could write the store is not caught.
	ChainKey *ChainKey
	// SealInterval, when set, is how often the service seals. Records left unsealed for longer than the interval
	// allows (SealGrace more) make the log stale: its end may have been cut off. Unsealed records after a shutdown
	// seal (written by admin commands while the service was stopped) are allowed.
	SealInterval time.Duration
	// SealGrace is the slack added to SealInterval (default: half the interval, at least 10 s).
	SealGrace time.Duration
	// Now is the time the staleness is judged at: the newest seal must be younger than the interval allows at Now.
	// Zero judges it at the newest record's time instead (offline checks of an old copy: only a seal missing
	// between records shows then).
	Now time.Time
}

// Report summarises an intact log.
type Report struct {
	Records  uint64 `json:"records"`
	LastSeq  uint64 `json:"lastSeq"`
	LastHash string `json:"lastHash"`
	Seals    int    `json:"seals"`
	// SealedSeq is the last record covered by a valid seal; Unsealed counts the records after it (they could be
	// cut off without a trace unless a later head is known).
	SealedSeq uint64   `json:"sealedSeq"`
	Unsealed  uint64   `json:"unsealed"`
	KeyIDs    []string `json:"keyIds,omitempty"`
	// LastSealTime and LastSealReason describe the newest seal (empty without one).
	LastSealTime   string `json:"lastSealTime,omitempty"`
	LastSealReason string `json:"lastSealReason,omitempty"`
	// Keyed counts the records whose MAC was checked with the chain key; MACsNotChecked those that carry a MAC
	// not checked for want of the key (their chain could have been recomputed).
	Keyed          uint64 `json:"keyed"`
	MACsNotChecked uint64 `json:"macsNotChecked,omitempty"`
	// Pending counts the events a store holds committed but not yet chained (PendingSource; on PostgreSQL the chain
	// is extended after the writing transaction), and OldestPending is when the oldest of them was queued. They are
	// not in the chain, its export or its seals yet.
	Pending       uint64 `json:"pending,omitempty"`
	OldestPending string `json:"oldestPending,omitempty"`
}

// Verifier checks records one by one, in order.
type Verifier struct {
	opts  VerifyOptions
	heads map[uint64]Record
	prev  *Record
	rep   Report
	keys  map[string]bool
	err   error
	// firstUnsealed and newest are the times of the oldest record after the newest seal and of the newest record.
	firstUnsealed, newest time.Time
	lastSeal              time.Time
}

// NewVerifier starts a verification.
func NewVerifier(o VerifyOptions) *Verifier {
	v := &Verifier{opts: o, heads: map[uint64]Record{}, keys: map[string]bool{}}
	for _, h := range o.Heads {
		v.heads[h.Seq] = h
	}
	return v
}

// Next checks the next record; line is its line in an export (0 if none). After the first error every call
// returns it.
func (v *Verifier) Next(r Record, line int) error {
	if v.err != nil {
		return v.err
	}
	fail := func(seq uint64, format string, a ...any) error {
		v.err = &BrokenError{Seq: seq, Line: line, Reason: fmt.Sprintf(format, a...)}
		return v.err
	}
	want, prevHash := uint64(1), GenesisHash
	if v.prev != nil {
		want, prevHash = v.prev.Seq+1, v.prev.Hash
	}
	switch {
	case r.Seq < want:
		return fail(r.Seq, "out of order or repeated: expected record %d, found %d", want, r.Seq)
	case r.Seq > want:
		return fail(want, "record %d missing (next present is %d)", want, r.Seq)
	}
	if r.PrevHash != prevHash {
		return fail(r.Seq, "prevHash does not match the previous record's hash")
	}
	if got := r.ComputeHash(); got != r.Hash {
		return fail(r.Seq, "content changed: hash %s recorded, %s computed", short(r.Hash), short(got))
	}
	if k := v.opts.ChainKey; k != nil {
		if want := r.ComputeMAC(k); !hmac.Equal([]byte(want), []byte(r.MAC)) {
			if want == "" {
				return fail(r.Seq, "carries a MAC but the chain is keyed only from record %d", k.KeyedFrom)
			}
			return fail(r.Seq, "MAC does not match: the record was changed, removed or recomputed without the chain key")
		}
		if r.MAC != "" {
			v.rep.Keyed++
		}
	} else if r.MAC != "" {
		v.rep.MACsNotChecked++
	}
	at, err := r.TimeValue()
	if err != nil {
		return fail(r.Seq, "time %q is not RFC 3339", r.Time)
	}
	if at.After(v.newest) {
		v.newest = at
	}
	if h, ok := v.heads[r.Seq]; ok && h.Hash != r.Hash {
		return fail(r.Seq, "differs from the signed head known for it")
	}
	if r.Kind == KindSeal {
		kid, err := verifySeal(&r, v.opts.TrustedKeys)
		if err != nil {
			return fail(r.Seq, "%v", err)
		}
		v.rep.Seals++
		v.rep.SealedSeq = r.Seq
		v.keys[kid] = true
		v.lastSeal, v.firstUnsealed = at, time.Time{}
		v.rep.LastSealTime, v.rep.LastSealReason = r.Time, r.Details["reason"]
	} else if v.firstUnsealed.IsZero() {
		v.firstUnsealed = at
	}
	rc := r
	v.prev = &rc
	v.rep.Records++
	v.rep.LastSeq, v.rep.LastHash = r.Seq, r.Hash
	return nil
}

// Done finishes: a known signed head past the end of the log means the log was cut.
func (v *Verifier) Done() (Report, error) {
	if v.err != nil {
		return v.rep, v.err
	}
	seqs := make([]uint64, 0, len(v.heads))
	for s := range v.heads {
		if s > v.rep.LastSeq {
			seqs = append(seqs, s)
		}
	}
	if len(seqs) > 0 {
		sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
		v.err = &BrokenError{Seq: v.rep.LastSeq + 1, Reason: fmt.Sprintf(
			"log truncated: it ends at record %d but a signed head exists for record %d", v.rep.LastSeq, seqs[len(seqs)-1])}
		return v.rep, v.err
	}
	v.rep.Unsealed = v.rep.LastSeq - v.rep.SealedSeq
	if err := v.fresh(); err != nil {
		v.err = err
		return v.rep, err
	}
	for k := range v.keys {
		v.rep.KeyIDs = append(v.rep.KeyIDs, k)
	}
	sort.Strings(v.rep.KeyIDs)
	return v.rep, nil
}

// fresh applies VerifyOptions.SealInterval: the seal the sealer must have made after the newest seal (or after
// the first record of a log never sealed) is missing when more than the interval (and grace) has passed.
func (v *Verifier) fresh() error {
	every := v.opts.SealInterval
	if every <= 0 || v.rep.Records == 0 {
		return nil
	}
	if v.rep.Seals > 0 && v.rep.LastSealReason == SealShutdown {
		return nil // the service stopped cleanly; records after it were written while it was stopped
	}
	grace := v.opts.SealGrace
	if grace <= 0 {
		grace = max(every/2, 10*time.Second)
	}
	at, from := v.opts.Now, v.lastSeal
	if at.IsZero() || (v.rep.Seals > 0 && v.rep.LastSealReason == SealNodeStop) {
		// after a node's stop seal the other nodes may have stopped too (then nothing follows it) or gone on
		// writing and sealing each interval: what follows the seal must be sealed within the interval, judged at
		// the newest record rather than now
		at = v.newest
	}
	what := "the newest seal"
	if v.rep.Seals == 0 {
		from, what = v.firstUnsealed, "the first record of a log never sealed"
	}
	if age := at.Sub(from); age > every+grace {
		return &BrokenError{Seq: v.rep.LastSeq + 1, Stale: true, Reason: fmt.Sprintf(
			"stale seal: %s (%s) is %s older than %s, more than the seal interval %s allows; the end of the log may have been cut off (compare with the published heads)",
			what, from.UTC().Format(time.RFC3339), age.Round(time.Second), at.UTC().Format(time.RFC3339), every)}
	}
	return nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

// MaxLineBytes bounds one exported line (a seal with an RSA-4096 certificate is a few kilobytes).
const MaxLineBytes = 1 << 20

// ReadJSONLines reads an export strictly (one JSON object per line with exactly the Record fields, no blank
// lines) and calls fn for each record with its line number. A line that is not a record is a *BrokenError.
func ReadJSONLines(r io.Reader, fn func(rec Record, line int) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLineBytes)
	line, lastSeq := 0, uint64(0)
	for sc.Scan() {
		line++
		b := bytes.TrimSuffix(sc.Bytes(), []byte("\r"))
		rec, err := decodeLine(b)
		if err != nil {
			return &BrokenError{Seq: lastSeq + 1, Line: line, Reason: "not an audit record: " + err.Error()}
		}
		lastSeq = rec.Seq
		if err := fn(rec, line); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return &BrokenError{Seq: lastSeq + 1, Line: line + 1, Reason: "unreadable line: " + err.Error()}
	}
	return nil
}

func decodeLine(b []byte) (Record, error) {
	var rec Record
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return rec, err
	}
	if dec.More() {
		return rec, errors.New("trailing data")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return rec, err
	}
	for _, k := range []string{"seq", "time", "kind", "actor", "subject", "details", "prevHash", "hash"} { // mac is optional
		if _, ok := raw[k]; !ok {
			return rec, fmt.Errorf("field %s missing", k)
		}
	}
	return rec, nil
}

// VerifyJSONLines verifies an export.
func VerifyJSONLines(r io.Reader, o VerifyOptions) (Report, error) {
	v := NewVerifier(o)
	if err := ReadJSONLines(r, v.Next); err != nil {
		return v.rep, err
	}
	return v.Done()
}

// Source reads a stored log. store.DB satisfies it.
type Source interface {
	// ScanAudit calls fn for each record from seq from on, in order.
	ScanAudit(ctx context.Context, from uint64, fn func(seq uint64, rec []byte) error) error
	// ScanAuditHeads calls fn for each stored copy of a signed head.
	ScanAuditHeads(ctx context.Context, fn func(seq uint64, rec []byte) error) error
}

// VerifyStore verifies a stored log, including the stored copies of signed heads (o.Heads are added to them).
// Records are checked under their storage key: a record stored under another seq is broken. Without
// o.ChainKey, a source that has one (store.DB: AuditChainKey) gives it.
func VerifyStore(ctx context.Context, src Source, o VerifyOptions) (Report, error) {
	if k, ok := src.(interface{ AuditChainKey() *ChainKey }); ok && o.ChainKey == nil {
		o.ChainKey = k.AuditChainKey()
	}
	err := src.ScanAuditHeads(ctx, func(seq uint64, raw []byte) error {
		var h Record
		if err := json.Unmarshal(raw, &h); err != nil || h.Seq != seq {
			return &BrokenError{Seq: seq, Reason: "stored signed head unreadable"}
		}
		o.Heads = append(o.Heads, h)
		return nil
	})
	if err != nil {
		return Report{}, err
	}
	v := NewVerifier(o)
	var lastRaw []byte
	err = src.ScanAudit(ctx, 1, func(seq uint64, raw []byte) error {
		lastRaw = raw
		var r Record
		if err := json.Unmarshal(raw, &r); err != nil {
			return &BrokenError{Seq: seq, Reason: "stored record unreadable"}
		}
		if r.Seq != seq {
			return &BrokenError{Seq: seq, Reason: fmt.Sprintf("stored under seq %d but says %d", seq, r.Seq)}
		}
		return v.Next(r, 0)
	})
	if err != nil {
		return v.rep, err
	}
	if err := checkTip(ctx, src, o.ChainKey, v.rep, lastRaw); err != nil {
		return v.rep, err
	}
	var oldest time.Time
	if ps, ok := src.(PendingSource); ok {
		n, at, err := ps.AuditPending(ctx)
		if err != nil {
			return v.rep, err
		}
		v.rep.Pending, oldest = n, at
		if n > 0 {
			v.rep.OldestPending = at.UTC().Format(time.RFC3339Nano)
		}
	}
	rep, err := v.Done()
	if err != nil {
		return rep, err
	}
	return rep, pendingFresh(rep, oldest, o)
}

// PendingSource is a Source that holds events committed but not yet chained: a store whose writing transactions
// queue their events and a chainer appends them to the chain soon after (store.DB on PostgreSQL).
type PendingSource interface {
	// AuditPending returns how many events wait to be chained and when the oldest of them was queued.
	AuditPending(ctx context.Context) (count uint64, oldest time.Time, err error)
}

// pendingFresh fails a log whose oldest unchained event has waited longer than the seal interval (and grace)
// allows at o.Now: every seal chains what is pending first, so such an event means that no node chains or seals
// (all stopped, or failing); until it is chained it is neither hash-linked nor sealed.
func pendingFresh(rep Report, oldest time.Time, o VerifyOptions) error {
	every := o.SealInterval
	if rep.Pending == 0 || every <= 0 || o.Now.IsZero() {
		return nil
	}
	grace := o.SealGrace
	if grace <= 0 {
		grace = max(every/2, 10*time.Second)
	}
	if age := o.Now.Sub(oldest); age > every+grace {
		return &BrokenError{Seq: rep.LastSeq + 1, Stale: true, Reason: fmt.Sprintf(
			"%d committed audit events not chained yet, the oldest queued %s ago (%s), more than the seal interval %s allows: no node is chaining them (start a node; see docs/operations.md)",
			rep.Pending, age.Round(time.Second), oldest.UTC().Format(time.RFC3339), every)}
	}
	return nil
}

// TipSource is a Source that keeps the keyed Tip of its log (store.DB).
type TipSource interface {
	// AuditTip returns the stored tip (nil when there is none).
	AuditTip(ctx context.Context) (*Tip, error)
}

// checkTip compares the log's end with the store's keyed tip, when the key says the store keeps one.
func checkTip(ctx context.Context, src Source, k *ChainKey, rep Report, lastRaw []byte) error {
	ts, ok := src.(TipSource)
	if !ok || k == nil || !k.Tipped {
		return nil
	}
	tip, err := ts.AuditTip(ctx)
	if err != nil {
		return err
	}
	switch {
	case tip == nil && !k.TipRequired(rep.LastSeq):
		return nil // a copy from before the store kept a tip (a restored backup)
	case tip == nil:
		return &BrokenError{Seq: rep.LastSeq + 1, Reason: "the store's keyed end-of-log mark is gone: records may have been cut off its end"}
	case tip.Seq != rep.LastSeq:
		return &BrokenError{Seq: rep.LastSeq + 1, Reason: fmt.Sprintf("the log ends at seq %d but its keyed end-of-log mark says %d: records were cut off its end", rep.LastSeq, tip.Seq)}
	case !k.Matches(*tip, rep.LastSeq, lastRaw):
		return &BrokenError{Seq: rep.LastSeq, Reason: "the keyed end-of-log mark does not match the last record (forged, or the record was replaced)"}
	}
	return nil
}

// Export writes every stored record as one JSON object per line (seal records, which carry the signed heads,
// included) and returns how many it wrote.
func Export(ctx context.Context, src Source, w io.Writer) (int, error) {
	bw := bufio.NewWriter(w)
	n := 0
	err := src.ScanAudit(ctx, 1, func(seq uint64, raw []byte) error {
		if !json.Valid(raw) || bytes.ContainsAny(raw, "\n\r") {
			// Keep the line structure: a damaged record becomes a line the verifier will name.
			raw, _ = json.Marshal(map[string]any{"seq": seq, "damaged": string(raw)})
		}
		n++
		if _, err := bw.Write(raw); err != nil {
			return err
		}
		return bw.WriteByte('\n')
	})
	if err != nil {
		return n, err
	}
	return n, bw.Flush()
}
