package store

import (
	"errors"
	"time"
)

// GetRateWindow reads the events under key (an empty window when none is stored).
func (tx *Tx) GetRateWindow(key string) (RateWindow, error) {
	var w RateWindow
	err := tx.getJSON(bRateWindows, []byte(key), "rate window", &w)
	if errors.Is(err, ErrNotFound) {
		return RateWindow{Key: key}, nil
	}
	return w, err
}

// PutRateWindow stores a window; one without events is removed.
func (tx *Tx) PutRateWindow(w RateWindow) error {
	if w.Key == "" {
		return invalid("rate window needs a key")
	}
	if len(w.Times) == 0 {
		return tx.kv.Delete(bRateWindows, []byte(w.Key))
	}
	return tx.putJSON(bRateWindows, []byte(w.Key), w)
}

// DeleteRateWindowsIdleSince removes windows whose newest event is before t.
func (tx *Tx) DeleteRateWindowsIdleSince(t time.Time) (int, error) {
	var keys [][]byte
	err := tx.kv.Scan(bRateWindows, nil, nil, func(k, v []byte) (bool, error) {
		var w RateWindow
		if err := jsonDecode(v, &w, "rate window"); err != nil {
			return false, err
		}
		if n := len(w.Times); n == 0 || w.Times[n-1].Before(t) {
			keys = append(keys, append([]byte(nil), k...))
		}
		return true, nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := tx.kv.Delete(bRateWindows, k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}
