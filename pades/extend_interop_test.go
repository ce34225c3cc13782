package pades_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/interoptest"
	"github.com/trustsign/trustsign/internal/testpki"
)

// TestInteropExtendedToPeers: after Extend, poppler's pdfsig and PDFBox still accept every signature (PDFBox
// checks the document time-stamps too: imprint over the ByteRange, token signature, TSA chain) and qpdf --check
// the structure. A b-lt file ends with the DSS update, after the last signature: --allow-increments.
func TestInteropExtendedToPeers(t *testing.T) {
	if testing.Short() {
		t.Skip("interop: -short")
	}
	p := testpki.New()
	dir := pkiDir(t)
	root, inter := filepath.Join(dir, "root.pem"), filepath.Join(dir, "inter.pem")
	bb := sign(t, simplePDF(2, ""), opts(p.RSA))
	for _, tc := range []struct {
		name, level string
		in          []byte
	}{
		{"B-B to b-t", "b-t", bb},
		{"B-B to b-lt", "b-lt", bb},
		{"B-B to b-lta", "b-lta", bb},
		{"B-T to b-lta", "b-lta", signBT(t, simplePDF(1, "xref-stream"), p.EC256)},
		{"b-lta renewed", "b-lta", extend(t, bb, extendOpts(t, "b-lta", &testSource{p: p}))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := writeTemp(t, t.TempDir(), "extended.pdf", extend(t, tc.in, extendOpts(t, tc.level, &testSource{p: p})))
			var extra []string
			if tc.level == "b-lt" {
				extra = append(extra, "--allow-increments")
			}
			for _, tool := range []string{"pdfbox", "qpdf"} {
				args := extra
				if tool == "qpdf" {
					args = nil
				}
				if ok, out := interoptest.Verify(t, tool, f, root, inter, args...); !ok {
					t.Errorf("%s rejects the extended file:\n%s", tool, out)
				}
			}
			// poppler does not verify document time-stamps ("Signature has not yet been verified"): every CAdES
			// signature must be OK and every other line that one.
			out := pdfsigReport(t, f, root, inter, extra...)
			cades := 0
			for _, line := range strings.Split(out, "\n") {
				if !strings.HasPrefix(strings.TrimSpace(line), "signature ") {
					continue
				}
				switch {
				case strings.Contains(line, "OK (ETSI.CAdES.detached"):
					cades++
				case !strings.Contains(line, "not yet been verified"):
					t.Errorf("pdfsig: %s", line)
				}
			}
			if cades != 1 {
				t.Errorf("pdfsig accepts %d CAdES signatures, want 1:\n%s", cades, out)
			}
		})
	}
}

// TestInteropDocTimeStampOpenSSL: `openssl ts -verify` accepts the token of our document time-stamp over the
// bytes its ByteRange covers, and rejects it over the bytes of another revision.
func TestInteropDocTimeStampOpenSSL(t *testing.T) {
	if testing.Short() {
		t.Skip("interop: -short")
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	p := testpki.New()
	dir := pkiDir(t)
	b := extend(t, sign(t, simplePDF(1, ""), opts(p.RSA)), extendOpts(t, "b-t", &testSource{p: p}))
	ds := docTimeStamps(verifyBytes(t, b))
	if len(ds) != 1 {
		t.Fatalf("%d document time-stamps", len(ds))
	}
	br := ds[0].ByteRange
	covered := append(append([]byte{}, b[br[0]:br[0]+br[1]]...), b[br[2]:br[2]+br[3]]...)
	tmp := t.TempDir()
	token := writeTemp(t, tmp, "token.der", ds[0].DocumentTimeStamp.Token.SignedData.Raw)
	run := func(data []byte) (bool, string) {
		f := writeTemp(t, tmp, "data.bin", data)
		out, err := exec.Command("openssl", "ts", "-verify", "-data", f, "-in", token, "-token_in",
			"-CAfile", filepath.Join(dir, "root.pem"), "-untrusted", filepath.Join(dir, "inter.pem")).CombinedOutput()
		return err == nil && bytes.Contains(out, []byte("Verification: OK")), string(out)
	}
	if ok, out := run(covered); !ok {
		t.Fatalf("openssl ts -verify rejects the document time-stamp:\n%s", out)
	}
	if ok, out := run(b[:br[1]]); ok {
		t.Fatalf("openssl ts -verify accepts the token over other bytes:\n%s", out)
	}
	_ = os.Remove(token)
}

// pdfsigReport runs the interop toolkit's pdfsig-verify and returns its report, whatever the verdict (the
// document time-stamps make it INVALID). Under load pdfsig once printed no report at all: that is retried once.
func pdfsigReport(t *testing.T, file, root, inter string, extra ...string) string {
	t.Helper()
	tool := interoptest.Tool(t)
	if tool == "" {
		t.Skip("interop toolkit not found")
	}
	var out []byte
	for try := 0; try < 2; try++ {
		out, _ = exec.CommandContext(t.Context(), tool, append([]string{"pdfsig-verify", file, "--trust", root, "--untrusted", inter}, extra...)...).CombinedOutput()
		if !bytes.Contains(out, []byte("printed no signature report")) {
			break
		}
	}
	if bytes.Contains(out, []byte("not installed")) {
		t.Skipf("pdfsig missing:\n%s", out)
	}
	return string(out)
}
