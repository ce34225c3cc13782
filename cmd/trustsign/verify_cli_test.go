package main

import (
	"bytes"
	"encoding/json"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/pdf/pdftest"
	"github.com/trustsign/trustsign/verify"
)

// tsIn runs the command line in-process with stdin.
func tsIn(t *testing.T, stdin []byte, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = runIO(args, bytes.NewReader(stdin), &o, &e)
	return code, o.String(), e.String()
}

// A file without a signature is NO_SIGNATURE_FOUND (exit 3) and says why; it never shows a phantom signature.
func TestVerifyFileWithoutSignature(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name, content, want string
	}{
		{"a.png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not an XML or PDF document"},
		{"a.json", `{"podpis": "nie"}`, "not an XML or PDF document"},
		{"random.bin", "\x00\x9f\x13\xfa\x01binary", "not an XML or PDF document"},
		{"empty", "", "the file is empty"},
		{"unsigned.xml", `<?xml version="1.0"?><a>no signature</a>`, "no signature found"},
		{"unsigned.pdf", string(pdftest.Build(pdftest.Simple(1, "Wniosek"), 1, pdftest.Options{})), "no signature found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			write(t, f.path(tc.name), tc.content)
			code, out, stderr := ts(t, "verify", "--trust", f.path("root.pem"), f.path(tc.name))
			if code != exitNoSignature {
				t.Errorf("exit %d, want %d\n%s%s", code, exitNoSignature, out, stderr)
			}
			if !strings.Contains(out, tc.want) || strings.Contains(out, "Signature 1") || strings.Contains(out, "well-formed") {
				t.Errorf("output does not say %q, or shows a signature:\n%s", tc.want, out)
			}
			code, out, _ = ts(t, "verify", "--json", "--trust", f.path("root.pem"), f.path(tc.name))
			var rep verify.FileReport
			if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitNoSignature ||
				rep.Indication != verify.NoSignature || len(rep.Signatures) != 0 {
				t.Errorf("--json: exit %d, %v: %s", code, err, out)
			}
		})
	}
}

// Errors are not usage errors, keep their cause, and an unreadable file still gets its JSON line.
func TestVerifyErrorExitCodes(t *testing.T) {
	f := newFixture(t)
	signed := f.sign(t, "codes")
	write(t, f.path("notpem.pem"), "not a certificate")
	for _, tc := range []struct {
		name       string
		args       []string
		code       int
		wantStderr string
		wantStdout string
	}{
		{"missing file", []string{"--trust", f.path("root.pem"), f.path("missing.xml")}, exitNoInput, "no such file or directory", ""},
		{"missing file, JSON line", []string{"--json", "--trust", f.path("root.pem"), f.path("missing.xml"), signed}, exitNoInput,
			"no such file or directory", `"error":"cannot read ` + f.path("missing.xml") + `: no such file or directory"`},
		{"directory", []string{"--trust", f.path("root.pem"), f.dir}, exitNoInput, "is a directory", ""},
		{"missing trust file", []string{"--trust", f.path("nothing.pem"), signed}, exitNoInput, "no such file or directory", ""},
		{"trust file without certificates", []string{"--trust", f.path("notpem.pem"), signed}, exitDataErr, "no PEM data", ""},
		{"report cannot be written", []string{"--trust", f.path("root.pem"), "--report", f.path("no/dir/r.html"), signed}, exitCantCreate, "no such file or directory", ""},
		{"unknown flag is a usage error", []string{"--no-such-flag", signed}, exitUsage, "unknown flag", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := ts(t, append([]string{"verify"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.wantStderr) || !strings.Contains(out, tc.wantStdout) {
				t.Errorf("exit %d (want %d), stderr %q (want %q), stdout %q (want %q)", code, tc.code, stderr, tc.wantStderr, out, tc.wantStdout)
			}
		})
	}
}

// - reads standard input, for verify and for sign.
func TestStandardInput(t *testing.T) {
	f := newFixture(t)
	doc, _ := os.ReadFile(f.path("doc.xml"))
	code, signed, stderr := tsIn(t, doc, "sign", "--key", f.path("rsa.key"), "--cert", f.path("rsa.pem"), "--chain", f.path("inter.pem"), "-", "-o", "-")
	if code != 0 || !strings.Contains(signed, "Amoxicillinum") {
		t.Fatalf("sign -: exit %d %s", code, stderr)
	}
	code, out, stderr := tsIn(t, []byte(signed), "verify", "--trust", f.path("root.pem"), "-")
	if code != 0 || !strings.Contains(out, "TOTAL_PASSED") {
		t.Errorf("verify -: exit %d\n%s%s", code, out, stderr)
	}
	if code, _, _ := tsIn(t, []byte(signed), "verify", "--trust", f.path("root.pem"), "-", "-"); code != exitUsage {
		t.Errorf("verify - -: exit %d, want %d", code, exitUsage)
	}
}

// sign without --format signs a PDF in PAdES, whatever its name; --visible's help says what happens without it.
func TestSignPicksPAdESForPDF(t *testing.T) {
	f := newFixture(t)
	pdfBytes := pdftest.Build(pdftest.Simple(1, "Wniosek"), 1, pdftest.Options{})
	for _, name := range []string{"x.pdf", "scan.bin"} {
		write(t, f.path(name), string(pdfBytes))
		out := f.path("signed-" + name)
		if code, _, stderr := ts(t, "sign", "--key", f.path("rsa.key"), "--cert", f.path("rsa.pem"), "--chain", f.path("inter.pem"),
			f.path(name), "-o", out); code != 0 {
			t.Fatalf("%s: exit %d %s", name, code, stderr)
		}
		raw, _ := os.ReadFile(out)
		if !bytes.HasPrefix(raw, []byte("%PDF-")) {
			t.Errorf("%s: output is not a PDF: %.40q", name, raw)
		}
		if code, reps := f.verifyJSON(t, out); code != 0 || reps[0].Format != "pades" {
			t.Errorf("%s: verify exit %d", name, code)
		}
	}
	// a PDF on standard input is a PDF too; an output folder that does not exist cannot be created (73)
	out := f.path("stdin-signed.pdf")
	if code, _, stderr := tsIn(t, pdfBytes, "sign", "--key", f.path("rsa.key"), "--cert", f.path("rsa.pem"), "--chain", f.path("inter.pem"), "-", "-o", out); code != 0 {
		t.Fatalf("sign - (PDF): exit %d %s", code, stderr)
	}
	if code, reps := f.verifyJSON(t, out); code != 0 || reps[0].Format != "pades" {
		t.Errorf("sign - (PDF): verify exit %d", code)
	}
	if code, _, stderr := ts(t, "sign", "--key", f.path("rsa.key"), "--cert", f.path("rsa.pem"), f.path("x.pdf"), "-o", f.path("no/dir/out.pdf")); code != exitCantCreate ||
		!strings.Contains(stderr, "no such file or directory") {
		t.Errorf("PDF to a missing folder: exit %d %s", code, stderr)
	}
	_, help, _ := ts(t, "sign", "--help")
	if strings.Contains(help, "(default true)") || !strings.Contains(help, "drawn with --profile") {
		t.Errorf("--visible help does not match its behaviour:\n%s", help)
	}
}

// What sign writes, verify accepts: at the size limit, a wrapped file is either signed into something verify
// accepts, or refused with a message that says to sign it detached (never "not well-formed").
func TestSignOutputVerifiesAtSizeLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("signs files of about 8 MB")
	}
	f := newFixture(t)
	limit := verify.DefaultMaxXMLBytes
	// base64 makes 3 bytes 4, in lines of 76 characters: the wrapped content's boundary is about 57/77 of the limit
	boundary := limit / 77 * 57
	accepted := 0
	for _, size := range []int{boundary - 64<<10, boundary - 1<<10, boundary + 1<<10, limit + 1} {
		in := f.path("big.bin")
		data := bytes.Repeat([]byte{0x00, 0xff, 0x13, 0x37}, size/4+1)[:size]
		if err := os.WriteFile(in, data, 0o644); err != nil {
			t.Fatal(err)
		}
		out := f.path("big.xml")
		os.Remove(out)
		code, _, stderr := ts(t, "sign", "--key", f.path("rsa.key"), "--cert", f.path("rsa.pem"), "--chain", f.path("inter.pem"), in, "-o", out)
		if code != 0 {
			if !strings.Contains(stderr, "xades-detached") || strings.Contains(stderr, "well-formed") {
				t.Errorf("size %d: refused without saying to sign detached: %s", size, stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("size %d: refused but wrote %s", size, out)
			}
			continue
		}
		if vcode, vout, vstderr := ts(t, "verify", "--trust", f.path("root.pem"), "--intermediates", f.path("inter.pem"), out); vcode != 0 {
			t.Errorf("size %d: sign wrote a file verify refuses: exit %d\n%.500s%s", size, vcode, vout, vstderr)
		}
		accepted++
		runtime.GC()
	}
	if accepted == 0 {
		t.Errorf("nothing near the limit (%d) was signed: the boundary is not where the test expects it", boundary)
	}
	// an XML document over the limit is too large, not malformed
	big := f.path("big-doc.xml")
	write(t, big, "<a>"+strings.Repeat("<b/>x", limit/5)+"</a>")
	code, _, stderr := ts(t, "sign", "--key", f.path("rsa.key"), "--cert", f.path("rsa.pem"), big, "-o", f.path("big-doc-signed.xml"))
	if code == 0 || strings.Contains(stderr, "well-formed") || !strings.Contains(stderr, "xades-detached") {
		t.Errorf("too-large XML: exit %d %s", code, stderr)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, _ := ts(t, args...)
		if code != 0 || !strings.HasPrefix(out, "trustsign ") || !strings.Contains(out, "go: go1.") {
			t.Errorf("%v: exit %d %q", args, code, out)
		}
	}
}
