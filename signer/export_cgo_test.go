//go:build cgo

package signer

// ResetPKCS11Modules finalises every loaded module, so that the next key initialises it again and the library
// reads the SOFTHSM2_CONF of the test now running (each test has a token directory of its own).
func ResetPKCS11Modules() {
	modulesMu.Lock()
	defer modulesMu.Unlock()
	for _, m := range modules {
		m.mu.Lock()
		if m.up {
			m.ctx.Finalize() //nolint:errcheck
		}
		m.up, m.err, m.last = false, nil, m.last.AddDate(-1, 0, 0)
		m.mu.Unlock()
	}
}
