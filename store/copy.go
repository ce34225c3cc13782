package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"slices"
)

// Buckets returns every bucket of the store's layout, in a fixed order: what Copy copies. A backend's own
// bookkeeping (bbolt's schema "meta" bucket, PostgreSQL's store_meta table) is not among them.
func Buckets() []string {
	return []string{
		bProfiles, bLoginIndex, bPESELIndex, bAppNoIndex, bAppExpiryIndex, bProfileExpiry,
		bOfficers, bClients, bClientKeyIndex,
		bCodes, bCodeCounters, bSessions, bSessionSubject, bLoginThrottle, bRateWindows,
		bDecoyIndex, bPESELApplicants,
		bSigReq, bSigReqDoc, bSigReqSigned, bSigReqExpiry, bSigReqBatch,
		bMaintenance, bMaintenanceByID,
		bAudit, bAuditHeads, bAuditTip, bAuditPending,
		bCounters, bCounterEnd, bReports, bReportExpiry, bSettings,
		bWebhooks, bWebhookByID, bLeases, // store/webhooks.go, store/lease.go
	}
}

// BulkPutter is an optional extension of a backend's KVTx: PutMany stores several keys of one bucket at once (one
// round trip on a SQL backend instead of one per key). keys are distinct and non-empty; values[i] goes with keys[i].
// Copy uses it when the target's transactions offer it.
type BulkPutter interface {
	PutMany(bucket string, keys, values [][]byte) error
}

// ErrNotEmpty: Copy's target already holds records (Copy never merges into a store in use).
var ErrNotEmpty = errors.New("store: the target store is not empty")

// CopyOptions tunes Copy.
type CopyOptions struct {
	// BatchKeys and BatchBytes bound one commit on the target: it is made once either is reached (defaults 1000
	// keys, 16 MiB of keys and values), so neither a large store nor large documents make one huge transaction.
	BatchKeys  int
	BatchBytes int
	// Progress, if set, is called after each commit with the bucket and the keys copied from it so far.
	Progress func(bucket string, copied int)
}

// BucketCount is what Copy copied from one bucket.
type BucketCount struct {
	Bucket string
	Keys   int
	Bytes  int64 // keys and values
}

// Copy copies every bucket of Buckets from one backend to another, key by key, for moving a store to another
// backend (bbolt to PostgreSQL). It reads from in one read transaction (a consistent snapshot) and writes to in
// bounded transactions (see CopyOptions); afterwards it reads both again and compares each bucket's key count and
// a SHA-256 over its keys and values, so a copy that lost, added or changed anything is an error.
//
// It refuses (ErrNotEmpty) a target that holds any key in those buckets: it does not merge. The buckets are
// copied byte for byte, the audit chain included, so the chain verifies on the target under the source's chain
// key; keying the target with that key is the target backend's business (postgres.Options.AdoptChainKey). Copy
// is not safe against writers on either side: the source must be closed to writers (bbolt read-only) and the
// target unused until Copy returns.
func Copy(ctx context.Context, from, to Backend, opts CopyOptions) ([]BucketCount, error) {
	if opts.BatchKeys <= 0 {
		opts.BatchKeys = 1000
	}
	if opts.BatchBytes <= 0 {
		opts.BatchBytes = 16 << 20
	}
	if err := to.View(ctx, func(kv KVTx) error {
		for _, b := range Buckets() {
			found := false
			if err := kv.Scan(b, nil, nil, func(_, _ []byte) (bool, error) { found = true; return false, nil }); err != nil {
				return err
			}
			if found {
				return fmt.Errorf("%w: bucket %s holds records", ErrNotEmpty, b)
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	var counts []BucketCount
	err := from.View(ctx, func(src KVTx) error {
		for _, b := range Buckets() {
			c, err := copyBucket(ctx, src, to, b, opts)
			if err != nil {
				return fmt.Errorf("store: copying bucket %s: %w", b, err)
			}
			counts = append(counts, c)
		}
		return nil
	})
	if err != nil {
		return counts, err
	}
	return counts, compareCopy(ctx, from, to)
}

type kvPair struct{ k, v []byte }

func copyBucket(ctx context.Context, src KVTx, to Backend, bucket string, opts CopyOptions) (BucketCount, error) {
	c := BucketCount{Bucket: bucket}
	var (
		batch []kvPair
		size  int
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		// fn may run more than once (a retried serialization failure): it only puts, so a rerun is harmless
		if err := to.Update(ctx, func(dst KVTx) error {
			if bp, ok := dst.(BulkPutter); ok {
				keys, values := make([][]byte, len(batch)), make([][]byte, len(batch))
				for i, p := range batch {
					keys[i], values[i] = p.k, p.v
				}
				return bp.PutMany(bucket, keys, values)
			}
			for _, p := range batch {
				if err := dst.Put(bucket, p.k, p.v); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
		c.Keys += len(batch)
		c.Bytes += int64(size)
		batch, size = batch[:0], 0
		if opts.Progress != nil {
			opts.Progress(bucket, c.Keys)
		}
		return nil
	}
	err := src.Scan(bucket, nil, nil, func(k, v []byte) (bool, error) {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		batch = append(batch, kvPair{slices.Clone(k), slices.Clone(v)})
		size += len(k) + len(v)
		if len(batch) >= opts.BatchKeys || size >= opts.BatchBytes {
			return true, flush()
		}
		return true, nil
	})
	if err != nil {
		return c, err
	}
	return c, flush()
}

// bucketDigest is a bucket's key count and a SHA-256 over its length-prefixed keys and values in key order.
type bucketDigest struct {
	keys int
	sum  [sha256.Size]byte
}

func digestBuckets(ctx context.Context, kv Backend) (map[string]bucketDigest, error) {
	out := map[string]bucketDigest{}
	err := kv.View(ctx, func(tx KVTx) error {
		for _, b := range Buckets() {
			h, n := sha256.New(), 0
			if err := tx.Scan(b, nil, nil, func(k, v []byte) (bool, error) {
				if n++; n%4096 == 0 && ctx.Err() != nil {
					return false, ctx.Err()
				}
				writeField(h, k)
				writeField(h, v)
				return true, nil
			}); err != nil {
				return fmt.Errorf("store: reading bucket %s: %w", b, err)
			}
			var d bucketDigest
			d.keys = n
			h.Sum(d.sum[:0])
			out[b] = d
		}
		return nil
	})
	return out, err
}

func writeField(h hash.Hash, b []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	h.Write(n[:])
	h.Write(b)
}

// ErrCopyMismatch: after Copy the target's buckets differ from the source's.
var ErrCopyMismatch = errors.New("store: the copy differs from the source")

func compareCopy(ctx context.Context, from, to Backend) error {
	a, err := digestBuckets(ctx, from)
	if err != nil {
		return err
	}
	b, err := digestBuckets(ctx, to)
	if err != nil {
		return err
	}
	for _, name := range Buckets() {
		if a[name] != b[name] {
			return fmt.Errorf("%w: bucket %s has %d keys on the source, %d on the target (or different values)",
				ErrCopyMismatch, name, a[name].keys, b[name].keys)
		}
	}
	return nil
}
