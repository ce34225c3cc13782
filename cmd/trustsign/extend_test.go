package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pdf/pdftest"
)

// skipUnlessExtendImplemented skips a test of the B-LT/B-LTA paths while xades.Extend or pades.Extend (or the
// revocation fetcher) is the skeleton that answers "not implemented".
func skipUnlessExtendImplemented(t *testing.T, stderr string) {
	t.Helper()
	if strings.Contains(stderr, "not implemented") {
		t.Skipf("xades.Extend / pades.Extend / revocation.Fetcher not implemented on this branch yet: %s", strings.TrimSpace(stderr))
	}
}

func (f *fixture) pdf(t *testing.T) string {
	t.Helper()
	p := f.path("in.pdf")
	if err := os.WriteFile(p, pdftest.Build(pdftest.Simple(1, "Wniosek"), 1, pdftest.Options{}), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSignLongTermLevels: sign --level b-lt and b-lta reach those levels in XAdES and PAdES (skipped while
// Extend is the skeleton).
func TestSignLongTermLevels(t *testing.T) {
	f := newFixture(t)
	p := testpki.New()
	good := p.TSA(t, testpki.TSAGood)
	for _, tc := range []struct{ level, in, want string }{
		{"b-lt", "doc.xml", "XAdES-B-LT"}, {"b-lta", "doc.xml", "XAdES-B-LTA"},
		{"b-lt", "in.pdf", "PAdES-B-LT"}, {"b-lta", "in.pdf", "PAdES-B-LTA"},
	} {
		t.Run(tc.level+"-"+tc.in, func(t *testing.T) {
			in := f.path(tc.in)
			if tc.in == "in.pdf" {
				in = f.pdf(t)
			}
			out := f.path("lt-" + tc.level + "-" + tc.in)
			code, _, stderr := ts(t, "sign", "--key", f.path("rsa.key"), "--cert", f.path("rsa.pem"), "--chain", f.path("inter.pem"),
				"--level", tc.level, "--tsa", good, in, "-o", out)
			if code != 0 {
				skipUnlessExtendImplemented(t, stderr)
				t.Fatalf("sign: exit %d %s", code, stderr)
			}
			code, reps := f.verifyJSON(t, out)
			// a PDF at B-LTA also lists its document time-stamp as a signature of its own
			if len(reps) != 1 || len(reps[0].Signatures) == 0 || reps[0].Signatures[0].Level != tc.want {
				t.Fatalf("verify: exit %d %+v", code, reps)
			}
		})
	}
}

// TestExtendBT: extend --level b-t brings a B-B XAdES and a B-B PAdES signature to B-T, in place when -o names the
// input (skipped while Extend is the skeleton).
func TestExtendBT(t *testing.T) {
	f := newFixture(t)
	p := testpki.New()
	good := p.TSA(t, testpki.TSAGood)
	xml := f.sign(t, "bb")
	pdfIn := f.pdf(t)
	pdfBB := f.path("bb.pdf")
	if code, _, stderr := ts(t, "sign", "--key", f.path("rsa.key"), "--cert", f.path("rsa.pem"), pdfIn, "-o", pdfBB); code != 0 {
		t.Fatalf("sign: %s", stderr)
	}
	for _, tc := range []struct{ in, out, want string }{
		{xml, f.path("bt.xml"), "XAdES-B-T"},
		{pdfBB, pdfBB, "PAdES-B-T"}, // in place
	} {
		code, _, stderr := ts(t, "extend", "--level", "b-t", "--tsa", good, tc.in, "-o", tc.out)
		if code != 0 {
			skipUnlessExtendImplemented(t, stderr)
			t.Fatalf("extend %s: exit %d %s", tc.in, code, stderr)
		}
		code, reps := f.verifyJSON(t, tc.out)
		if code != 0 || reps[0].Signatures[0].Level != tc.want {
			t.Fatalf("verify %s: exit %d %+v", tc.out, code, reps)
		}
	}
}

// TestExtendErrors: every refusal of extend is one line with the CLI's exit codes, and writes nothing.
func TestExtendErrors(t *testing.T) {
	f := newFixture(t)
	p := testpki.New()
	good := p.TSA(t, testpki.TSAGood)
	signed := f.sign(t, "bb")
	write(t, f.path("plain.xml"), "<a>no signature</a>")
	write(t, f.path("image.png"), "\x89PNG\r\n\x1a\n")
	write(t, f.path("broken.xml"), "<a><b></a>")
	pdfIn := f.pdf(t)
	out := f.path("out")
	tests := []struct {
		name  string
		args  []string
		code  int
		error string
	}{
		{"no level", []string{"--tsa", good, signed, "-o", out}, exitUsage, "extend needs --level"},
		{"level b-b", []string{"--level", "b-b", "--tsa", good, signed, "-o", out}, exitUsage, "extend takes --level b-t, b-lt or b-lta"},
		{"unknown level", []string{"--level", "b-x", "--tsa", good, signed, "-o", out}, exitUsage, "unknown --level"},
		{"no output", []string{"--level", "b-t", "--tsa", good, signed}, exitUsage, "extend needs -o OUT"},
		{"b-t without --tsa", []string{"--level", "b-t", signed, "-o", out}, exitUsage, "--level b-t needs --tsa"},
		{"b-lta without --tsa", []string{"--level", "b-lta", signed, "-o", out}, exitUsage, "--level b-lta needs --tsa"},
		{"not a URL", []string{"--level", "b-t", "--tsa", "ftp://x", signed, "-o", out}, exitUsage, "not an http(s) URL"},
		{"two files", []string{"--level", "b-t", "--tsa", good, signed, signed, "-o", out}, exitUsage, "exactly one input file"},
		{"missing file", []string{"--level", "b-t", "--tsa", good, f.path("nope.xml"), "-o", out}, exitNoInput, "no such file"},
		{"missing --chain file", []string{"--level", "b-lt", "--chain", f.path("nope.pem"), signed, "-o", out}, exitNoInput, "no such file"},
		{"neither XML nor PDF", []string{"--level", "b-t", "--tsa", good, f.path("image.png"), "-o", out}, exitNoSignature, "neither XML nor PDF"},
		{"XML without a signature", []string{"--level", "b-t", "--tsa", good, f.path("plain.xml"), "-o", out}, exitNoSignature, "holds no signature"},
		{"PDF without a signature", []string{"--level", "b-t", "--tsa", good, pdfIn, "-o", out}, exitNoSignature, "holds no signature"},
		{"malformed XML", []string{"--level", "b-t", "--tsa", good, f.path("broken.xml"), "-o", out}, exitDataErr, "broken.xml"},
		{"TSA down", []string{"--level", "b-t", "--tsa", p.TSA(t, testpki.TSAHTTP500), signed, "-o", out}, exitFailed, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := ts(t, append([]string{"extend"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.error) {
				t.Fatalf("exit %d, want %d; stderr %q, want %q", code, tc.code, stderr, tc.error)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") > 1 {
				t.Errorf("more than one line of error: %q", stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("an output was written")
			}
		})
	}
}

// TestExtendOutputUnwritable: a PDF whose output directory does not exist exits 73 and leaves the input alone.
func TestExtendOutputUnwritable(t *testing.T) {
	f := newFixture(t)
	p := testpki.New()
	pdfBB := f.path("bb.pdf")
	if code, _, stderr := ts(t, "sign", "--key", f.path("rsa.key"), "--cert", f.path("rsa.pem"), f.pdf(t), "-o", pdfBB); code != 0 {
		t.Fatalf("sign: %s", stderr)
	}
	before, _ := os.ReadFile(pdfBB)
	code, _, stderr := ts(t, "extend", "--level", "b-t", "--tsa", p.TSA(t, testpki.TSAGood), pdfBB, "-o", f.path("no/such/dir/out.pdf"))
	if code != exitCantCreate || !strings.Contains(stderr, "cannot write") {
		t.Fatalf("exit %d %s", code, stderr)
	}
	if after, _ := os.ReadFile(pdfBB); !bytes.Equal(before, after) {
		t.Fatal("the input changed")
	}
}

// TestExtendHelp: the help names the levels, the in-place rule and the exit codes.
func TestExtendHelp(t *testing.T) {
	code, out, _ := ts(t, "extend", "--help")
	for _, want := range []string{"b-lta", "in place", "73 OUT cannot be written", "--tsa-timeout", "--fetch-timeout"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("help lacks %q (exit %d)", want, code)
		}
	}
}

// TestVerifyOnlineFlags: --online is accepted (offline stays the default); --fetch-timeout needs it.
func TestVerifyOnlineFlags(t *testing.T) {
	f := newFixture(t)
	signed := f.sign(t, "bb")
	base := []string{"verify", "--trust", f.path("root.pem"), "--intermediates", f.path("inter.pem")}
	if code, _, stderr := ts(t, append(base, "--online", "--fetch-timeout", "2s", signed)...); code != 0 {
		t.Fatalf("--online: exit %d %s", code, stderr)
	}
	if code, _, stderr := ts(t, append(base, "--fetch-timeout", "2s", signed)...); code != exitUsage || !strings.Contains(stderr, "applies to --online") {
		t.Fatalf("--fetch-timeout without --online: exit %d %s", code, stderr)
	}
	if code, _, stderr := ts(t, append(base, "--online", "--fetch-timeout", "0s", signed)...); code != exitUsage || !strings.Contains(stderr, "must be positive") {
		t.Fatalf("--fetch-timeout 0: exit %d %s", code, stderr)
	}
}

// TestServeLevelFlags: serve refuses to start above b-b without a TSA (flag or TRUSTSIGN_ environment), and an
// unknown level, before it opens the store.
func TestServeLevelFlags(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		env   map[string]string
		error string
	}{
		{"b-t without --tsa", []string{"--level", "b-t"}, nil, "--level b-t needs --tsa"},
		{"b-lta from the environment", nil, map[string]string{"TRUSTSIGN_LEVEL": "b-lta"}, "--level b-lta needs --tsa"},
		{"unknown level", []string{"--level", "b-z"}, nil, "unknown level"},
		{"--tsa at b-b", []string{"--tsa", "http://127.0.0.1:1"}, nil, "--tsa applies to --level b-t"},
		{"not a URL", []string{"--level", "b-t", "--tsa", "tsa.example"}, nil, "not an http(s) URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			dir := t.TempDir()
			code, _, stderr := ts(t, append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dir}, tc.args...)...)
			if code != exitUsage || !strings.Contains(stderr, tc.error) {
				t.Fatalf("exit %d, want %d; stderr %q, want %q", code, exitUsage, stderr, tc.error)
			}
			if _, err := os.Stat(dir + "/trustsign.db"); err == nil {
				t.Error("the store was opened")
			}
		})
	}
}
