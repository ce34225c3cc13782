package store

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"time"
)

// VerifyReport is a verification report kept for a short time for its download link (the verification page's
// "download the report"). It may hold personal data (signers' names): it is stored only until Expires and removed
// by the expiry sweep.
type VerifyReport struct {
	Expires time.Time `json:"expires"`
	// Report is the report as its producer encoded it.
	Report []byte `json:"report"`
}

// reportKey is the stored key of a report's link id: its SHA-256, so the store never holds a working link.
func reportKey(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return []byte(hex.EncodeToString(h[:]))
}

// PutVerifyReport stores a report under its link id (a random capability chosen by the caller). In the same
// transaction it removes the reports expired at now and, while keep or more are left, the oldest, so the store
// never holds more than keep reports.
func (tx *Tx) PutVerifyReport(id string, r VerifyReport, now time.Time, keep int) error {
	if id == "" || keep < 1 || !now.Before(r.Expires) {
		return invalid("verify report needs an id, a positive keep and an expiry after now")
	}
	if _, err := tx.DeleteVerifyReportsExpiredBefore(now); err != nil {
		return err
	}
	var idx [][]byte
	if err := tx.kv.Scan(bReportExpiry, nil, nil, func(k, _ []byte) (bool, error) {
		idx = append(idx, append([]byte(nil), k...))
		return true, nil
	}); err != nil {
		return err
	}
	for i := 0; len(idx)-i >= keep; i++ { // oldest expiry first
		if err := tx.deleteReport(idx[i]); err != nil {
			return err
		}
	}
	key := reportKey(id)
	if ok, err := tx.exists(bReports, key); err != nil || ok {
		if ok {
			return conflict("verify report", "id taken")
		}
		return err
	}
	if err := tx.putJSON(bReports, key, r); err != nil {
		return err
	}
	return tx.kv.Put(bReportExpiry, timeKey(r.Expires, string(key)), nil)
}

// VerifyReportOf returns the report under a link id, or ErrNotFound when there is none or it expired at now.
func (tx *Tx) VerifyReportOf(id string, now time.Time) (VerifyReport, error) {
	var r VerifyReport
	if err := tx.getJSON(bReports, reportKey(id), "verify report", &r); err != nil {
		return VerifyReport{}, err
	}
	if !now.Before(r.Expires) {
		return VerifyReport{}, notFound("verify report")
	}
	return r, nil
}

// DeleteVerifyReportsExpiredBefore removes the reports that expired at or before t and returns how many.
func (tx *Tx) DeleteVerifyReportsExpiredBefore(t time.Time) (int, error) {
	end := t.UnixNano()
	var idx [][]byte
	err := tx.kv.Scan(bReportExpiry, nil, nil, func(k, _ []byte) (bool, error) {
		if len(k) < 8 || int64(binary.BigEndian.Uint64(k[:8])) > end {
			return false, nil
		}
		idx = append(idx, append([]byte(nil), k...))
		return true, nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range idx {
		if err := tx.deleteReport(k); err != nil {
			return 0, err
		}
	}
	return len(idx), nil
}

// deleteReport removes a report by its expiry index key.
func (tx *Tx) deleteReport(idxKey []byte) error {
	if len(idxKey) < 8 {
		return errors.New("store: short verify report index key")
	}
	if err := tx.kv.Delete(bReports, idxKey[8:]); err != nil {
		return err
	}
	return tx.kv.Delete(bReportExpiry, idxKey)
}
