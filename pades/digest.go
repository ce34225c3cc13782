package pades

import (
	"context"
	"crypto"
	"fmt"
	"hash"
	"io"
	"sort"
)

// Hashing every signature's ByteRange separately reads a file once per signature: a B-LTA PDF (a signature, a
// document time-stamp, a renewal) would cost three passes over its bytes. The ByteRanges of the signatures of one
// file share their first range's start (offset 0), and each first range ends inside the revision it signs, so
// they are prefixes of one another: one pass over [0, longest first range) with one hasher per digest algorithm
// gives every signature's first range by cloning the hasher's state when the pass reaches that range's end; each
// clone then hashes its second range (the rest of its revision after /Contents, usually a few kilobytes).

// digestKey names one digest to compute: a hash over a ByteRange [0 a b c].
type digestKey struct {
	h          crypto.Hash
	a, b, c, d int64
}

// digestRequest asks for the digest of the ByteRange br under h (br must have four entries inside the file).
func digestRequest(h crypto.Hash, br []int64) digestKey {
	return digestKey{h: h, a: br[0], b: br[1], c: br[2], d: br[3]}
}

// rangeDigests computes the digests of the requests in one pass over the shared prefix and one short read per
// second range. Requests whose first range does not start at 0, or whose hash cannot be cloned, are hashed on
// their own.
func rangeDigests(ctx context.Context, in io.ReaderAt, reqs []digestKey) (map[digestKey][]byte, error) {
	out := make(map[digestKey][]byte, len(reqs))
	byHash := map[crypto.Hash][]digestKey{}
	for _, k := range reqs {
		if _, done := out[k]; done {
			continue
		}
		out[k] = nil
		if k.h == 0 || !k.h.Available() {
			continue
		}
		if k.a != 0 {
			sum, err := hashRanges(in, k.h, []int64{k.a, k.b, k.c, k.d})
			if err != nil {
				return nil, err
			}
			out[k] = sum
			continue
		}
		byHash[k.h] = append(byHash[k.h], k)
	}
	buf := make([]byte, chunkSize)
	for h, ks := range byHash {
		sort.Slice(ks, func(i, j int) bool { return ks[i].b < ks[j].b })
		run := h.New()
		var off int64
		for _, k := range ks {
			// Advance the shared pass to the end of this first range.
			if err := hashSection(ctx, in, run, off, k.b-off, buf); err != nil {
				return nil, err
			}
			off = k.b
			one, err := cloneHash(run)
			if err != nil {
				return nil, err
			}
			if err := hashSection(ctx, in, one, k.c, k.d, buf); err != nil {
				return nil, err
			}
			out[k] = one.Sum(nil)
		}
	}
	return out, nil
}

// hashSection writes in[off:off+n) to w through buf.
func hashSection(ctx context.Context, in io.ReaderAt, w io.Writer, off, n int64, buf []byte) error {
	for n > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		k := min(int64(len(buf)), n)
		m, err := in.ReadAt(buf[:k], off)
		if int64(m) < k {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("pades: reading: %w", err)
		}
		w.Write(buf[:k])
		off, n = off+k, n-k
	}
	return nil
}

// cloneHash returns an independent copy of h's state.
func cloneHash(h hash.Hash) (hash.Hash, error) {
	if c, ok := h.(hash.Cloner); ok {
		return c.Clone()
	}
	return nil, fmt.Errorf("pades: %T cannot be cloned", h)
}
