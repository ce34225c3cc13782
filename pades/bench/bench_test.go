// Package bench measures PAdES signing and verification of a large PDF against hashing the same bytes, the
// yardstick of the speed goal (sign and verify a 100 MB PDF in at most 1.5 times sha256sum's time). Run
//
//	go test ./pades/bench -bench . -benchtime 3x
//
// (BENCH_PDF=path uses an existing file instead of generating 100 MB). bench/pades.sh measures the trustsign
// binary the same way and adds peak memory.
package bench

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/digitorus/pdfsign"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/revocation"
	"github.com/trustsign/trustsign/tsa"
	"github.com/trustsign/trustsign/verify"
)

var (
	bigOnce sync.Once
	bigPath string
	bigErr  error
)

// bigPDF returns a PDF of about 100 MB: two text pages and an image XObject of random bytes (as
// ../shared/acceptance/lib/mkpdf.py makes it), written once per process.
func bigPDF(b *testing.B) string {
	b.Helper()
	if p := os.Getenv("BENCH_PDF"); p != "" {
		return p
	}
	bigOnce.Do(func() {
		dir, err := os.MkdirTemp("", "trustsign-bench")
		if err != nil {
			bigErr = err
			return
		}
		bigPath = filepath.Join(dir, "big.pdf")
		bigErr = writeBig(bigPath, 100<<20)
	})
	if bigErr != nil {
		b.Fatal(bigErr)
	}
	return bigPath
}

func writeBig(path string, pad int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var offs []int64
	var n int64
	w := func(s string) {
		k, _ := io.WriteString(f, s)
		n += int64(k)
	}
	obj := func(body string) { offs = append(offs, n); w(fmt.Sprintf("%d 0 obj\n%s\nendobj\n", len(offs), body)) }
	w("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	side := 0
	for (side+1)*(side+1)*3 <= pad {
		side++
	}
	size := side * side * 3
	offs = append(offs, n)
	w(fmt.Sprintf("2 0 obj\n<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length %d >>\nstream\n", side, side, size))
	if _, err := io.CopyN(f, rand.Reader, int64(size)); err != nil {
		return err
	}
	n += int64(size)
	w("\nendstream\nendobj\n")
	for i := 0; i < 2; i++ {
		text := fmt.Sprintf("BT /F1 14 Tf 72 720 Td (Wniosek - strona %d) Tj ET", i+1)
		if i == 0 {
			text += " q 200 0 0 200 72 400 cm /Im1 Do Q"
		}
		obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(text), text))
		obj(fmt.Sprintf("<< /Type /Page /Parent 7 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 1 0 R >> /XObject << /Im1 2 0 R >> >> /Contents %d 0 R >>", len(offs)))
	}
	obj("<< /Type /Pages /Kids [4 0 R 6 0 R] /Count 2 >>")
	obj("<< /Type /Catalog /Pages 7 0 R >>")
	x := n
	w(fmt.Sprintf("xref\n0 %d\n0000000000 65535 f \n", len(offs)+1))
	for _, o := range offs {
		w(fmt.Sprintf("%010d 00000 n \n", o))
	}
	w(fmt.Sprintf("trailer\n<< /Size %d /Root 8 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, x))
	return nil
}

func hashFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	_, err = io.CopyBuffer(h, f, make([]byte, 1<<20))
	return err
}

func signOnce(path, out string) error {
	id := testpki.New().RSA
	_, err := pades.SignFile(context.Background(), path, out, pades.SignOptions{Signer: id.Key, Certificate: id.Cert, Chain: id.Chain})
	return err
}

func verifyOnce(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, _ := f.Stat()
	p := testpki.New()
	rep := verify.PDF(context.Background(), f, st.Size(), &verify.Policy{Roots: []*x509.Certificate{p.Root}, Intermediates: []*x509.Certificate{p.Intermediate}})
	if rep.Indication != verify.TotalPassed {
		return fmt.Errorf("verify: %s %s", rep.Indication, rep.Error)
	}
	return nil
}

func fileSize(b *testing.B, p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		b.Fatal(err)
	}
	return st.Size()
}

// BenchmarkSHA256 is the yardstick: hashing the file, as sha256sum does.
func BenchmarkSHA256(b *testing.B) {
	p := bigPDF(b)
	b.SetBytes(fileSize(b, p))
	for b.Loop() {
		if err := hashFile(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	p := bigPDF(b)
	testpki.New()
	out := filepath.Join(b.TempDir(), "signed.pdf")
	b.SetBytes(fileSize(b, p))
	for b.Loop() {
		if err := signOnce(p, out); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	p := bigPDF(b)
	signed := filepath.Join(b.TempDir(), "signed.pdf")
	if err := signOnce(p, signed); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fileSize(b, signed))
	for b.Loop() {
		if err := verifyOnce(signed); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRatio measures hashing, signing and verifying in the same run and reports the ratios the speed goal
// is about (goal: both at most 1.5).
func BenchmarkRatio(b *testing.B) {
	p := bigPDF(b)
	testpki.New()
	signed := filepath.Join(b.TempDir(), "signed.pdf")
	var th, ts, tv time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := hashFile(p); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := signOnce(p, signed); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if err := verifyOnce(signed); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		th, ts, tv = th+t1.Sub(t0), ts+t2.Sub(t1), tv+t3.Sub(t2)
	}
	b.ReportMetric(float64(ts)/float64(th), "sign/sha256")
	b.ReportMetric(float64(tv)/float64(th), "verify/sha256")
}

// TestOneShot signs or verifies one file when BENCH_ONESHOT is "sign" or "verify", for bench/pades.sh to time the
// library in a process of its own and read its peak memory. Inputs come from BENCH_IN, BENCH_OUT, BENCH_KEY,
// BENCH_CERT (PEM files), BENCH_ROOT and BENCH_INTER.
func TestOneShot(t *testing.T) {
	mode := os.Getenv("BENCH_ONESHOT")
	if mode == "" {
		t.Skip("BENCH_ONESHOT not set (used by bench/pades.sh)")
	}
	switch mode {
	case "sign":
		key, cert := loadKey(t, os.Getenv("BENCH_KEY")), loadCerts(t, os.Getenv("BENCH_CERT"))
		if _, err := pades.SignFile(context.Background(), os.Getenv("BENCH_IN"), os.Getenv("BENCH_OUT"),
			pades.SignOptions{Signer: key, Certificate: cert[0], Chain: cert[1:]}); err != nil {
			t.Fatal(err)
		}
	case "verify":
		f, err := os.Open(os.Getenv("BENCH_IN"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		st, _ := f.Stat()
		pol := &verify.Policy{Roots: loadCerts(t, os.Getenv("BENCH_ROOT")), Intermediates: loadCerts(t, os.Getenv("BENCH_INTER"))}
		if rep := verify.PDF(context.Background(), f, st.Size(), pol); rep.Indication != verify.TotalPassed {
			t.Fatalf("%s %s", rep.Indication, rep.Error)
		}
	case "lta":
		// A B-LTA file from BENCH_IN: signed by the test PKI, extended through the test TSA on loopback; the PKI's
		// root and intermediate go to BENCH_ROOT and BENCH_INTER for the verify mode.
		p := testpki.New()
		if err := buildLTA(t, p, os.Getenv("BENCH_IN"), os.Getenv("BENCH_OUT")); err != nil {
			t.Fatal(err)
		}
		for path, c := range map[string]*x509.Certificate{os.Getenv("BENCH_ROOT"): p.Root, os.Getenv("BENCH_INTER"): p.Intermediate} {
			if err := os.WriteFile(path, testpki.CertsPEM(c), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	default:
		t.Fatalf("BENCH_ONESHOT=%q", mode)
	}
}

func loadCerts(t *testing.T, path string) []*x509.Certificate {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		if blk, b = pem.Decode(b); blk == nil {
			break
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		t.Fatalf("no certificate in %s", path)
	}
	return out
}

func loadKey(t *testing.T, path string) crypto.Signer {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("no PEM in %s", path)
	}
	if k, err := x509.ParsePKCS8PrivateKey(blk.Bytes); err == nil {
		return k.(crypto.Signer)
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k
	}
	k, err := x509.ParseECPrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// BenchmarkPdfsignSign signs the same file with digitorus/pdfsign v1.0.0-rc2, for comparison: it reads and
// writes the whole document in memory, which is why trustsign has its own streaming writer.
func BenchmarkPdfsignSign(b *testing.B) {
	p := bigPDF(b)
	id := testpki.New().RSA
	out := filepath.Join(b.TempDir(), "pdfsign.pdf")
	b.SetBytes(fileSize(b, p))
	for b.Loop() {
		doc, err := pdfsign.OpenFile(p)
		if err != nil {
			b.Fatal(err)
		}
		doc.Sign(id.Key, id.Cert, id.Chain[1:]...).Format(pdfsign.PAdES_B)
		f, err := os.Create(out)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := doc.Write(f); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

// buildLTA signs in (B-B) and extends it to B-LTA into out: a document time-stamp, a DSS and an archive
// time-stamp from the test TSA on loopback (testpki.TSA), with the chain certificates as validation data.
func buildLTA(tb testing.TB, p *testpki.PKI, in, out string) error {
	ctx := context.Background()
	dir := tb.TempDir()
	signed := filepath.Join(dir, "signed.pdf")
	id := p.RSA
	if _, err := pades.SignFile(ctx, in, signed, pades.SignOptions{Signer: id.Key, Certificate: id.Cert, Chain: id.Chain}); err != nil {
		return err
	}
	client := &tsa.Client{URLs: []string{p.TSA(tb, testpki.TSAGood)}, Roots: p.Roots(), Intermediates: p.Intermediates()}
	f, err := os.Open(signed)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	w, err := os.Create(out)
	if err != nil {
		return err
	}
	defer w.Close()
	return pades.Extend(ctx, f, st.Size(), w, pades.ExtendOptions{
		Level: "b-lta",
		TimeStamp: func(ctx context.Context, imprint []byte) ([]byte, error) {
			tok, err := client.Stamp(ctx, imprint)
			if err != nil {
				return nil, err
			}
			return tok.DER, nil
		},
		Validation: func(context.Context, []*x509.Certificate) (revocation.Data, error) {
			return revocation.Data{Certificates: []*x509.Certificate{p.Intermediate, p.Root}}, nil
		},
	})
}

var (
	ltaOnce sync.Once
	ltaPath string
	ltaErr  error
)

// ltaPDF returns the 100 MB PDF extended to B-LTA (two document time-stamps and a DSS), built once per process.
func ltaPDF(b *testing.B) string {
	b.Helper()
	p := bigPDF(b)
	ltaOnce.Do(func() {
		ltaPath = filepath.Join(filepath.Dir(p), "lta.pdf")
		ltaErr = buildLTA(b, testpki.New(), p, ltaPath)
	})
	if ltaErr != nil {
		b.Fatal(ltaErr)
	}
	return ltaPath
}

// BenchmarkVerifyLTA verifies the B-LTA file: three signatures (the signature and two document time-stamps)
// whose ByteRanges are hashed in one pass.
func BenchmarkVerifyLTA(b *testing.B) {
	p := ltaPDF(b)
	b.SetBytes(fileSize(b, p))
	for b.Loop() {
		if err := verifyOnce(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRatioLTA reports verifying the B-LTA file against hashing it, in the same run (goal: at most 1.5).
func BenchmarkRatioLTA(b *testing.B) {
	p := ltaPDF(b)
	var th, tv time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := hashFile(p); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := verifyOnce(p); err != nil {
			b.Fatal(err)
		}
		th, tv = th+t1.Sub(t0), tv+time.Since(t1)
	}
	b.ReportMetric(float64(tv)/float64(th), "verify-lta/sha256")
}
