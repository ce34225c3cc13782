package store

import (
	"encoding/binary"
	"errors"
	"time"
)

// CounterWindow is a fixed-window event counter under one key (a client address, an integrator key): Count events
// since the window started; it ends at End, and the next event after that starts a new window.
type CounterWindow struct {
	Key   string    `json:"key"`
	End   time.Time `json:"end"`
	Count int       `json:"count"`
}

// CountEvent counts one event under key in a fixed window of period and reports whether it is within limit, and if
// not, how long until the window ends. The check and the count are one step of tx, so concurrent transactions
// (several API nodes on one database) never let more than limit events through in one window. Past the limit
// nothing is written (the count stays at limit+1): refused events cost no write.
func (tx *Tx) CountEvent(key string, limit int, period time.Duration, now time.Time) (bool, time.Duration, error) {
	if key == "" || period <= 0 {
		return false, 0, invalid("counter window needs a key and a period")
	}
	w, err := tx.liveCounter(key, now)
	if err != nil {
		return false, 0, err
	}
	if w.Count > limit {
		return false, w.End.Sub(now), nil
	}
	if w.End.IsZero() {
		w.End = now.Add(period)
	}
	w.Count++
	if err := tx.putCounter(w); err != nil {
		return false, 0, err
	}
	if w.Count > limit {
		return false, w.End.Sub(now), nil
	}
	return true, 0, nil
}

// CounterWindowOf reads key's window as of now (a zero Count when it has none or its window has ended). It only
// reads, so it works in a read transaction.
func (tx *Tx) CounterWindowOf(key string, now time.Time) (CounterWindow, error) {
	var w CounterWindow
	err := tx.getJSON(bCounters, []byte(key), "counter window", &w)
	if errors.Is(err, ErrNotFound) || (err == nil && !now.Before(w.End)) {
		return CounterWindow{Key: key}, nil
	}
	return w, err
}

// liveCounter returns key's window, or one without End when none is live at now.
func (tx *Tx) liveCounter(key string, now time.Time) (CounterWindow, error) {
	var w CounterWindow
	err := tx.getJSON(bCounters, []byte(key), "counter window", &w)
	if errors.Is(err, ErrNotFound) || (err == nil && !now.Before(w.End)) {
		if err == nil { // ended: its index entry goes when the window is replaced
			if err := tx.kv.Delete(bCounterEnd, timeKey(w.End, key)); err != nil {
				return CounterWindow{}, err
			}
		}
		return CounterWindow{Key: key}, nil
	}
	return w, err
}

func (tx *Tx) putCounter(w CounterWindow) error {
	if err := tx.putJSON(bCounters, []byte(w.Key), w); err != nil {
		return err
	}
	return tx.kv.Put(bCounterEnd, timeKey(w.End, w.Key), nil)
}

// DeleteCounterWindowsEndedBefore removes the windows that ended at or before t, at most limit of them (all when
// limit is 0), oldest first, and returns how many it removed. Run it periodically: a window that has ended counts
// nothing, and keys an attacker rotates must not pile up.
func (tx *Tx) DeleteCounterWindowsEndedBefore(t time.Time, limit int) (int, error) {
	end := t.UnixNano()
	var idx [][]byte
	err := tx.kv.Scan(bCounterEnd, nil, nil, func(k, _ []byte) (bool, error) {
		if len(k) < 8 || int64(binary.BigEndian.Uint64(k[:8])) > end || (limit > 0 && len(idx) >= limit) {
			return false, nil
		}
		idx = append(idx, append([]byte(nil), k...))
		return true, nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range idx {
		if err := tx.kv.Delete(bCounters, k[8:]); err != nil {
			return 0, err
		}
		if err := tx.kv.Delete(bCounterEnd, k); err != nil {
			return 0, err
		}
	}
	return len(idx), nil
}
