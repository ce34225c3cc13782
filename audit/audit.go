// Package audit is trustsign's tamper-evident audit log: a hash chain of records (every record carries the
// SHA-256 hash of the previous one), appended in the same store transaction as the change it records, and sealed at
// intervals by a signed head made with the service's seal key, so that changing, removing or reordering records, or
// cutting off sealed ones, shows. It exports the log as JSON Lines and verifies an export offline.
//
// It is not a general logger and holds no personal numbers or codes: callers put keyed hashes in Details (Append
// refuses a value that looks like a PESEL). It stores nothing itself: the Log and Source interfaces are satisfied by
// the store (store.Tx, store.DB).
//
// Record hash: hex(SHA-256("trustsign-audit-v1\n" || JSON of {seq, time, kind, actor, subject, details,
// prevHash})), with the fields in that order, details keys sorted, Go's encoding/json escaping, and time in RFC 3339
// with nanoseconds in UTC as stored. The first record's prevHash is 64 zeros. Anyone can check the hashes and links
// of an export; since anyone can also recompute them, every record also carries a MAC: hex(HMAC-SHA-256(chain key,
// "trustsign-audit-mac-v1\n" || hash)), with a key kept outside the store (ChainKey), so that a chain edited and
// recomputed without the key does not verify with it. Records written before a store was keyed (schema 1) carry
// no MAC. A seal is a record of kind KindSeal whose details carry the signed head (see Sealer); the signed heads
// are also published outside the store (a heads file) so that cutting the end of the log shows.
package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// KindSeal is the kind of the records that carry a signed head.
const KindSeal = "audit.seal"

// GenesisHash is the prevHash of the first record.
var GenesisHash = strings.Repeat("0", 64)

var (
	// ErrBroken is matched (errors.Is) by every *BrokenError.
	ErrBroken = errors.New("audit: chain broken")
	// ErrSensitive is returned by Append for an event that carries what looks like a PESEL in clear.
	ErrSensitive = errors.New("audit: event carries a personal number in clear")
	// ErrEvent is returned by Append for an event without time or kind.
	ErrEvent = errors.New("audit: event needs a time and a kind")
)

// Event is what a caller records: the change, who made it, and what it concerns.
type Event struct {
	Time time.Time
	// Kind names the change, dotted: "profile.register", "code.redeem", "signature.create", "lookup.pesel"...
	Kind string
	// Actor is who acted: "holder:<id>", "officer:<id>", "client:<id>", "admin", "system".
	Actor string
	// Subject is what it concerns: a profile id, a signing request id.
	Subject string
	// Details are extra facts; personal numbers and codes only as keyed hashes.
	Details map[string]string
}

// Record is one link of the chain, as stored and as exported (one JSON object per line).
type Record struct {
	Seq      uint64            `json:"seq"`
	Time     string            `json:"time"`
	Kind     string            `json:"kind"`
	Actor    string            `json:"actor"`
	Subject  string            `json:"subject"`
	Details  map[string]string `json:"details"`
	PrevHash string            `json:"prevHash"`
	Hash     string            `json:"hash"`
	// MAC authenticates Hash with the chain key (ChainKey; absent before the chain was keyed).
	MAC string `json:"mac,omitempty"`
}

type hashedFields struct {
	Seq      uint64            `json:"seq"`
	Time     string            `json:"time"`
	Kind     string            `json:"kind"`
	Actor    string            `json:"actor"`
	Subject  string            `json:"subject"`
	Details  map[string]string `json:"details"`
	PrevHash string            `json:"prevHash"`
}

// ComputeHash returns the hash the record must carry.
func (r *Record) ComputeHash() string {
	h := sha256.New()
	h.Write([]byte("trustsign-audit-v1\n"))
	h.Write(r.hashedJSON())
	return hex.EncodeToString(h.Sum(nil))
}

func (r *Record) hashedJSON() []byte {
	d := r.Details
	if d == nil {
		d = map[string]string{}
	}
	b, _ := json.Marshal(hashedFields{r.Seq, r.Time, r.Kind, r.Actor, r.Subject, d, r.PrevHash})
	return b
}

// TimeValue parses the record's time.
func (r *Record) TimeValue() (time.Time, error) { return time.Parse(time.RFC3339Nano, r.Time) }

// Log is the store side of appending: the last record and a put that must extend the chain by one. store.Tx
// satisfies it.
type Log interface {
	// AuditLast returns the last record's seq and encoding, or 0 and nil for an empty log.
	AuditLast() (seq uint64, rec []byte, err error)
	// AuditPut stores the record with seq last+1 (anything else is a conflict).
	AuditPut(seq uint64, rec []byte) error
}

// HashLog is a Log that knows the hash of its last record without Append decoding that record: store.Tx keeps the
// hash of the record it appended last, a chaining batch has it in memory. Append uses it when l has it.
type HashLog interface {
	Log
	// AuditLastHash returns the last record's seq and hash: 0 and GenesisHash for an empty log.
	AuditLastHash() (seq uint64, hash string, err error)
	// AuditPutHash is AuditPut for a record whose hash field is hash.
	AuditPutHash(seq uint64, rec []byte, hash string) error
}

// peselLike reports whether a value is a PESEL (11 digits) or carries one in the PNOPL- form of certificates
// (what the regular expression `^[0-9]{11}$|PNOPL-[0-9]{11}` matches; written out, as it runs several times
// for every audit event). Hex hashes are not matched: only a whole value of 11 digits is taken for a PESEL.
func peselLike(s string) bool {
	if len(s) == 11 && digits(s) {
		return true
	}
	for rest := s; ; {
		i := strings.Index(rest, "PNOPL-")
		if i < 0 {
			return false
		}
		if tail := rest[i+6:]; len(tail) >= 11 && digits(tail[:11]) {
			return true
		}
		rest = rest[i+1:]
	}
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Check returns the error Append would return for the event itself (ErrEvent, ErrSensitive), without appending:
// a store that queues events for a later chaining step checks them when they are queued, so that a bad event fails
// its own transaction rather than the chaining.
func (e Event) Check() error {
	if e.Time.IsZero() || e.Kind == "" {
		return ErrEvent
	}
	if peselLike(e.Subject) || peselLike(e.Actor) {
		return ErrSensitive
	}
	for k, v := range e.Details {
		if peselLike(v) || peselLike(k) {
			return fmt.Errorf("%w (detail %q)", ErrSensitive, k)
		}
	}
	return nil
}

// Append adds the event to the chain in the caller's transaction and returns the record written. When l is a
// KeyedLog with a key, the record carries a MAC (ComputeMAC).
func Append(l Log, e Event) (Record, error) {
	if err := e.Check(); err != nil {
		return Record{}, err
	}
	var (
		seq  uint64
		prev string
		err  error
	)
	hl, hashed := l.(HashLog)
	if hashed {
		seq, prev, err = hl.AuditLastHash()
	} else {
		seq, prev, err = lastHash(l)
	}
	if err != nil {
		return Record{}, err
	}
	d := make(map[string]string, len(e.Details))
	for k, v := range e.Details {
		d[k] = v
	}
	r := Record{Seq: seq + 1, Time: e.Time.UTC().Format(time.RFC3339Nano), Kind: e.Kind, Actor: e.Actor,
		Subject: e.Subject, Details: d, PrevHash: prev}
	var key *ChainKey
	if kl, ok := l.(KeyedLog); ok {
		key = kl.AuditChainKey()
	}
	r.Hash = r.ComputeHash()
	r.MAC = r.ComputeMAC(key)
	enc, err := json.Marshal(r)
	if err != nil {
		return Record{}, err
	}
	if hashed {
		err = hl.AuditPutHash(r.Seq, enc, r.Hash)
	} else {
		err = l.AuditPut(r.Seq, enc)
	}
	if err != nil {
		return Record{}, err
	}
	return r, nil
}

// lastHash returns the seq and hash of l's last record (GenesisHash for an empty log).
func lastHash(l Log) (uint64, string, error) {
	seq, raw, err := l.AuditLast()
	if err != nil {
		return 0, "", err
	}
	if raw == nil {
		return 0, GenesisHash, nil
	}
	h, err := RecordHash(raw)
	return seq, h, err
}

// RecordHash returns the hash field of a stored record, for a HashLog that has to read it.
func RecordHash(rec []byte) (string, error) {
	// only its hash is needed: decoding into a struct of that field alone skips the details' map
	var last struct {
		Hash string `json:"hash"`
	}
	if err := json.Unmarshal(rec, &last); err != nil {
		return "", fmt.Errorf("%w: last record unreadable: %v", ErrBroken, err)
	}
	return last.Hash, nil
}

// SeqKey is the store key of a sequence number (8 bytes big-endian), for backends.
func SeqKey(seq uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seq)
	return b[:]
}

// SeqFromKey is the sequence number of a store key made by SeqKey.
func SeqFromKey(k []byte) uint64 { return binary.BigEndian.Uint64(k) }
