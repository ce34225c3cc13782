package pades_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/internal/interoptest"
	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pades"
)

// TestInteropStampShowsLocalTime: the drawn stamp, read back by pdftotext, gives the signing time in Warsaw time
// with its zone ("2026-12-03 18:04:05 CET" for 17:04:05 UTC), as the pages show times, not a UTC offset.
func TestInteropStampShowsLocalTime(t *testing.T) {
	if testing.Short() {
		t.Skip("interop: -short")
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv(interoptest.RequireEnv) == "1" {
			t.Fatal("pdftotext missing")
		}
		t.Skip("pdftotext (poppler-utils) not installed")
	}
	p := testpki.New()
	dir := t.TempDir()
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 12, 3, 17, 4, 5, 0, time.UTC), "Data: 2026-12-03 18:04:05 CET"},
		{time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC), "Data: 2026-07-01 12:00:00 CEST"},
	} {
		in := simplePDF(1, "")
		o := opts(p.EC256)
		o.Profile, o.Time = testProfile, tc.at
		var out bytes.Buffer
		if _, err := pades.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, o); err != nil {
			t.Fatal(err)
		}
		f := writeTemp(t, dir, "signed.pdf", out.Bytes())
		txt, err := exec.Command("pdftotext", f, filepath.Join(dir, "signed.txt")).CombinedOutput()
		if err != nil {
			t.Fatalf("pdftotext: %v %s", err, txt)
		}
		got, _ := os.ReadFile(filepath.Join(dir, "signed.txt"))
		if !strings.Contains(string(got), tc.want) {
			t.Errorf("stamp text lacks %q:\n%s", tc.want, got)
		}
	}
}
