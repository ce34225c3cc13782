package pades_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/pdf/pdftest"
)

// TestAttackVRISharedArrays: a DSS appended to any signed PDF whose many VRI entries all name the same large
// /OCSP, /CRL and /Cert array (one indirect array, a few bytes per entry in the file). Reading it must not copy
// the array once per VRI entry (entries × streams values: gigabytes with 10000 of each), nor check it once per
// entry: the memory Verify allocates stays within a small multiple of the file.
func TestAttackVRISharedArrays(t *testing.T) {
	p := testpki.New()
	b := sign(t, simplePDF(1, ""), opts(p.RSA))
	const streams, entries = 1500, 1500
	objs := map[int]pdftest.Object{}
	var refs, vri strings.Builder
	for i := range streams {
		objs[100+i] = pdftest.StreamObj("<< >>", []byte{byte(i), byte(i >> 8)})
		fmt.Fprintf(&refs, "%d 0 R ", 100+i)
	}
	for i := range entries {
		fmt.Fprintf(&vri, "/%040X << /OCSP 71 0 R /CRL 71 0 R /Cert 71 0 R >>\n", i)
	}
	objs[70] = pdftest.Dict("<< /Type /DSS /OCSPs 71 0 R /VRI 72 0 R >>")
	objs[71] = pdftest.Dict("[" + refs.String() + "]")
	objs[72] = pdftest.Dict("<< " + vri.String() + " >>")
	objs[1] = withEntry(t, b, 1, " /DSS 70 0 R")
	bad := update(t, b, objs)

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	res, err := pades.Verify(context.Background(), bytes.NewReader(bad), int64(len(bad)), pades.VerifyOptions{})
	t.Logf("verify took %v", time.Since(start))
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("verifying a %d KiB file with %d VRI entries naming one array of %d streams allocated %d MiB",
			len(bad)>>10, entries, streams, alloc>>20)
	}
	if res.DSS == nil || len(res.DSS.Data.OCSP) != streams {
		t.Fatalf("DSS %+v", res.DSS)
	}
}
