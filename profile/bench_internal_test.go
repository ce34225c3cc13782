package profile

import (
	"context"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustsign/trustsign/notify"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/bbolt"
)

// BenchmarkRedeemSigningCode measures signing-code redemptions per second on a bbolt file (fsync on every
// commit), with bbolt's Batch coalescing concurrent redemptions into one commit, and without (one commit each).
// Each iteration redeems a different profile's live code; codes are issued before the timer starts.
func BenchmarkRedeemSigningCode(b *testing.B) {
	for _, batch := range []bool{false, true} {
		for _, workers := range []int{1, 16, 64} {
			name := fmt.Sprintf("batch=%v/workers=%d", batch, workers)
			b.Run(name, func(b *testing.B) { benchRedeem(b, batch, workers) })
		}
	}
}

func benchRedeem(b *testing.B, batch bool, workers int) {
	db, err := bbolt.Open(filepath.Join(b.TempDir(), bbolt.FileName), bbolt.Options{NoBatch: !batch})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	s, err := New(db, &notify.Recorder{}, Options{Secret: make([]byte, 32), Argon2: Argon2Params{Memory: 64, Time: 1, Threads: 1},
		UnsafeFastHashing: true})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now().UTC()
	exp := now.Add(24 * time.Hour)
	type item struct {
		profileID, code string
		digest          []byte
	}
	items := make([]item, b.N)
	digest := sha256.Sum256([]byte("<recepta/>"))
	const chunk = 2000
	for lo := 0; lo < b.N; lo += chunk {
		err := db.Update(ctx, func(tx *store.Tx) error {
			for i := lo; i < b.N && i < lo+chunk; i++ {
				id := fmt.Sprintf("bench-%08d", i)
				p := store.Profile{ID: id, ApplicationNumber: "A" + id, Login: id, LoginKey: id, PESELHash: []byte(id),
					Status: string(Active), Expires: &exp, CodeChannel: string(ChannelSMS), Created: now, Updated: now}
				if err := tx.CreateProfile(p); err != nil {
					return err
				}
				code, _, err := s.issueIn(tx, p, purposeSign, []store.Binding{{RequestID: "req-" + id, Digest: digest[:], DocName: "recepta.xml"}}, now)
				if err != nil {
					return err
				}
				items[i] = item{id, code, digest[:]}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	t0 := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				it := items[i]
				if err := s.RedeemSigningCode(ctx, it.profileID, "req-"+it.profileID, it.digest, it.code); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "redemptions/s")
}
