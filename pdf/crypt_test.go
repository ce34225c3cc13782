package pdf_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/pdf"
)

// The fixtures in testdata/crypt are made by qpdf (make.sh): base.pdf encrypted with the empty user password in
// every standard-handler variant, each with qpdf's own decryption of it (*.dec.pdf) as the oracle.
var cryptFixtures = []struct {
	name string
	desc string
}{
	{"rc4-40", "V1 R2, RC4 40-bit"},
	{"rc4-128", "V2 R3, RC4 128-bit"},
	{"rc4-128-v4", "V4 R4, crypt filter /V2, cleartext metadata"},
	{"aes-128", "V4 R4, crypt filter /AESV2"},
	{"aes-128-objstm", "V4 R4 /AESV2 with object streams and cleartext metadata"},
	{"aes-256-r5", "V5 R5 /AESV3 (Acrobat IX)"},
	{"aes-256", "V5 R6 /AESV3 (ISO 32000-2)"},
	{"aes-256-objstm", "V5 R6 with object streams and cleartext metadata"},
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "crypt", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecryptMatchesQpdf reads every object reachable from the trailer of each encrypted fixture and of qpdf's
// decryption of it, side by side: every string, number, name and decoded stream must be the same.
func TestDecryptMatchesQpdf(t *testing.T) {
	for _, f := range cryptFixtures {
		t.Run(f.name, func(t *testing.T) {
			enc := mustOpen(t, readFixture(t, f.name+".pdf"))
			dec := mustOpen(t, readFixture(t, f.name+".dec.pdf"))
			if !enc.Encrypted() || enc.DecryptErr() != nil {
				t.Fatalf("Encrypted %v, DecryptErr %v", enc.Encrypted(), enc.DecryptErr())
			}
			if dec.Encrypted() {
				t.Fatal("qpdf's decryption is encrypted")
			}
			n := compareTrees(t, enc, dec)
			if n < 20 {
				t.Errorf("only %d values compared", n)
			}
			// Spot checks that the comparison is not vacuous.
			info, _ := enc.Latest().Dict(enc.Trailer()["Info"])
			if got := pdf.Text(info["Title"]); got != "Encrypted fixture" {
				t.Errorf("/Title %q", got)
			}
			p, err := enc.Latest().Pages()
			if err != nil || len(p) != 1 {
				t.Fatalf("pages %v %v", p, err)
			}
			if got := contentText(t, enc.Latest(), p[0]); !strings.Contains(got, "(Encrypted test page) Tj") {
				t.Errorf("content %q", got)
			}
		})
	}
}

// TestDecryptQpdfLive repeats the differential test on files qpdf encrypts and decrypts now (the fixtures keep it
// running where qpdf is missing), including a document with a later incremental update.
func TestDecryptQpdfLive(t *testing.T) {
	if _, err := exec.LookPath("qpdf"); err != nil {
		t.Skip("qpdf not installed")
	}
	dir := t.TempDir()
	base := filepath.Join("testdata", "crypt", "base.pdf")
	for _, args := range [][]string{
		{"--allow-weak-crypto", "--encrypt", "", "o", "40", "--"},
		{"--allow-weak-crypto", "--encrypt", "", "o", "128", "--use-aes=n", "--"},
		{"--encrypt", "", "o", "128", "--use-aes=y", "--"},
		{"--object-streams=generate", "--encrypt", "", "o", "256", "--"},
		{"--encrypt", "", "", "256", "--force-R5", "--"},
		{"--linearize", "--encrypt", "", "o", "128", "--use-aes=y", "--"},
		{"--linearize", "--object-streams=generate", "--encrypt", "", "o", "256", "--"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			enc, decf := filepath.Join(dir, "enc.pdf"), filepath.Join(dir, "dec.pdf")
			qpdf(t, append(append([]string{}, args...), base, enc)...)
			qpdf(t, "--decrypt", enc, decf)
			eb, _ := os.ReadFile(enc)
			db, _ := os.ReadFile(decf)
			compareTrees(t, mustOpen(t, eb), mustOpen(t, db))
		})
	}
}

func qpdf(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("qpdf", args...).CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 { // 3: warnings
			t.Fatalf("qpdf %q: %v\n%s", args, err, out)
		}
	}
}

// compareTrees walks the objects reachable from /Root and /Info of a and b in parallel (qpdf renumbers objects,
// so they are matched by position, not number) and returns the number of values compared.
func compareTrees(t *testing.T, a, b *pdf.Reader) int {
	t.Helper()
	c := &treeCmp{t: t, a: a.Latest(), b: b.Latest(), seen: map[[2]pdf.Ref]bool{}}
	for _, k := range []pdf.Name{"Root", "Info"} {
		c.cmp("/"+string(k), a.Trailer()[k], b.Trailer()[k], 0)
	}
	return c.n
}

type treeCmp struct {
	t    *testing.T
	a, b pdf.View
	seen map[[2]pdf.Ref]bool
	n    int
}

func (c *treeCmp) cmp(path string, x, y pdf.Object, depth int) {
	if depth > 40 {
		return
	}
	c.n++
	rx, okx := x.(pdf.Ref)
	ry, oky := y.(pdf.Ref)
	if okx || oky {
		if okx && oky {
			if c.seen[[2]pdf.Ref{rx, ry}] {
				return
			}
			c.seen[[2]pdf.Ref{rx, ry}] = true
		}
		var err error
		if x, err = c.a.Resolve(x); err != nil {
			c.t.Errorf("%s: encrypted file: %v", path, err)
			return
		}
		if y, err = c.b.Resolve(y); err != nil {
			c.t.Errorf("%s: decrypted file: %v", path, err)
			return
		}
	}
	switch vx := x.(type) {
	case pdf.Dict:
		vy, ok := y.(pdf.Dict)
		if !ok {
			c.t.Errorf("%s: %T vs %T", path, x, y)
			return
		}
		c.dict(path, vx, vy, depth, nil)
	case pdf.Array:
		vy, ok := y.(pdf.Array)
		if !ok || len(vx) != len(vy) {
			c.t.Errorf("%s: %v vs %v", path, x, y)
			return
		}
		for i := range vx {
			c.cmp(fmt.Sprintf("%s[%d]", path, i), vx[i], vy[i], depth+1)
		}
	case *pdf.Stream:
		vy, ok := y.(*pdf.Stream)
		if !ok {
			c.t.Errorf("%s: stream vs %T", path, y)
			return
		}
		// qpdf compresses streams as it writes each file: compare decoded data, and dictionaries without the
		// encoding keys.
		c.dict(path, vx.Dict, vy.Dict, depth, map[pdf.Name]bool{"Length": true, "Filter": true, "DecodeParms": true})
		dx, err1 := c.a.Reader().DecodeStream(vx, c.a)
		dy, err2 := c.b.Reader().DecodeStream(vy, c.b)
		if err1 != nil || err2 != nil {
			c.t.Errorf("%s: decode: %v / %v", path, err1, err2)
			return
		}
		if !bytes.Equal(dx, dy) {
			c.t.Errorf("%s: stream data %q vs %q", path, dx, dy)
		}
	default:
		if !pdf.Equal(x, y) {
			c.t.Errorf("%s: %v vs %v", path, x, y)
		}
	}
}

func (c *treeCmp) dict(path string, x, y pdf.Dict, depth int, skip map[pdf.Name]bool) {
	keys := map[pdf.Name]bool{}
	for k := range x {
		keys[k] = true
	}
	for k := range y {
		keys[k] = true
	}
	var sorted []string
	for k := range keys {
		if !skip[k] {
			sorted = append(sorted, string(k))
		}
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		c.cmp(path+"/"+k, x[pdf.Name(k)], y[pdf.Name(k)], depth+1)
	}
}

// TestDecryptUserPassword: a document that needs a user password other than the empty one opens (its structure is
// readable) but its objects are refused with ErrUserPassword, never read as ciphertext.
func TestDecryptUserPassword(t *testing.T) {
	for _, name := range []string{"user-rc4-128.pdf", "user-aes-256.pdf"} {
		t.Run(name, func(t *testing.T) {
			r := mustOpen(t, readFixture(t, name))
			if !r.Encrypted() || !errors.Is(r.DecryptErr(), pdf.ErrUserPassword) {
				t.Fatalf("Encrypted %v, DecryptErr %v", r.Encrypted(), r.DecryptErr())
			}
			if _, _, err := r.Latest().Catalog(); !errors.Is(err, pdf.ErrUserPassword) {
				t.Errorf("Catalog: %v, want ErrUserPassword", err)
			}
		})
	}
}

// TestEncryptedUpdate: an incremental update of an encrypted document encrypts what it writes (except a
// signature dictionary's /Contents), keeps /Encrypt, and reads back as written; qpdf agrees.
func TestEncryptedUpdate(t *testing.T) {
	for _, f := range cryptFixtures {
		t.Run(f.name, func(t *testing.T) {
			b := readFixture(t, f.name+".pdf")
			r := mustOpen(t, b)
			u := pdf.NewUpdate(r)
			note := u.Add(pdf.Dict{"Type": pdf.Name("Annot"), "Subtype": pdf.Name("Text"), "Contents": pdf.String{Value: []byte("secret note")}})
			sig := u.Add(pdf.Dict{"Type": pdf.Name("Sig"), "Contents": pdf.String{Value: []byte{1, 2, 3}, Hex: true}, "Name": pdf.String{Value: []byte("ANNA")}})
			st := u.Add(&pdf.Stream{Dict: pdf.Dict{}, Raw: []byte("BT (new page text) Tj ET")})
			w, err := u.Bytes(int64(len(b)), r.Trailer(), false)
			if err != nil {
				t.Fatal(err)
			}
			for _, plain := range []string{"secret note", "ANNA", "new page text"} {
				if bytes.Contains(w.Bytes, []byte(plain)) {
					t.Errorf("%q written in clear", plain)
				}
			}
			if !bytes.Contains(w.Bytes, []byte("<010203>")) {
				t.Error("signature /Contents encrypted")
			}
			out := append(append([]byte{}, b...), w.Bytes...)
			r2 := mustOpen(t, out)
			if r2.DecryptErr() != nil {
				t.Fatal(r2.DecryptErr())
			}
			v := r2.Latest()
			if d, _ := v.Dict(note); pdf.Text(d["Contents"]) != "secret note" {
				t.Errorf("note reads %q", d["Contents"])
			}
			if d, _ := v.Dict(sig); pdf.Text(d["Name"]) != "ANNA" || !bytes.Equal(d["Contents"].(pdf.String).Value, []byte{1, 2, 3}) {
				t.Errorf("signature dictionary reads %v", d)
			}
			so, _ := v.Get(st)
			if data, err := r2.DecodeStream(so.(*pdf.Stream), v); err != nil || string(data) != "BT (new page text) Tj ET" {
				t.Errorf("stream reads %q, %v", data, err)
			}
			if _, err := exec.LookPath("qpdf"); err == nil {
				p := filepath.Join(t.TempDir(), "upd.pdf")
				os.WriteFile(p, out, 0o644)
				if o, err := exec.Command("qpdf", "--check", p).CombinedOutput(); err != nil {
					t.Errorf("qpdf --check: %v\n%s", err, o)
				}
			}
		})
	}
}

// TestEncryptRedefined: an update that redefines the /Encrypt object (so that earlier revisions would be read with
// another key) is refused.
func TestEncryptRedefined(t *testing.T) {
	b := readFixture(t, "aes-128.pdf")
	r := mustOpen(t, b)
	ref, ok := r.Trailer()["Encrypt"].(pdf.Ref)
	if !ok {
		t.Fatal("/Encrypt is not a reference")
	}
	d, _ := r.Latest().Dict(ref)
	d = d.Clone()
	d["P"] = pdf.Integer(-3904)
	u := pdf.NewUpdate(r)
	u.Set(ref, d)
	w, err := u.Bytes(int64(len(b)), r.Trailer(), false)
	if err != nil {
		t.Fatal(err)
	}
	r2 := mustOpen(t, append(bytes.Clone(b), w.Bytes...))
	if err := r2.DecryptErr(); !errors.Is(err, pdf.ErrUnsupportedEncryption) || !strings.Contains(err.Error(), "changes the /Encrypt") {
		t.Errorf("DecryptErr %v", err)
	}
}
