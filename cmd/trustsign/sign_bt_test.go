package main

import (
	"os"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pdf/pdftest"
	"github.com/trustsign/trustsign/verify"
)

func TestSignXAdESBT(t *testing.T) {
	f := newFixture(t)
	p := testpki.New()
	out := f.sign(t, "bt", "--level", "b-t", "--tsa", p.TSA(t, testpki.TSAHTTP500), "--tsa", p.TSA(t, testpki.TSAGood))
	code, reps := f.verifyJSON(t, out)
	if code != 0 || len(reps) != 1 {
		t.Fatalf("verify: exit %d %+v", code, reps)
	}
	s := reps[0].Signatures[0]
	if s.Level != "XAdES-B-T" || len(s.TimeStamps) != 1 || s.TimeStamps[0].Indication != verify.TotalPassed || s.TimeStamps[0].Time == nil {
		t.Fatalf("level %q timestamps %+v", s.Level, s.TimeStamps)
	}
	if _, text, _ := ts(t, "verify", "--trust", f.path("root.pem"), "--intermediates", f.path("inter.pem"), out); !strings.Contains(text, "Time-stamp: signature ") ||
		!strings.Contains(text, "Trustsign Test TSA") {
		t.Errorf("text report lacks the time-stamp:\n%s", text)
	}
	// the TSA checked against trust anchors at signing time (--tsa-trust, with --chain as intermediates)
	if code, reps = f.verifyJSON(t, f.sign(t, "bt-trust", "--level", "b-t", "--tsa", p.TSA(t, testpki.TSAGood),
		"--tsa-trust", f.path("root.pem"))); code != 0 || reps[0].Signatures[0].Level != "XAdES-B-T" {
		t.Fatalf("--tsa-trust: exit %d", code)
	}
	// b-b (the default) stays B-B
	code, reps = f.verifyJSON(t, f.sign(t, "bb"))
	if code != 0 || reps[0].Signatures[0].Level != "XAdES-B-B" || len(reps[0].Signatures[0].TimeStamps) != 0 {
		t.Fatalf("b-b: exit %d level %q", code, reps[0].Signatures[0].Level)
	}
}

func TestSignLevelErrors(t *testing.T) {
	f := newFixture(t)
	p := testpki.New()
	pdf := f.path("in.pdf")
	if err := os.WriteFile(pdf, pdftest.Build(pdftest.Simple(1, "Wniosek"), 1, pdftest.Options{}), 0o644); err != nil {
		t.Fatal(err)
	}
	good := p.TSA(t, testpki.TSAGood)
	tests := []struct {
		name  string
		args  []string
		in    string
		code  int
		error string
	}{
		{"b-t without --tsa", []string{"--level", "b-t"}, "doc.xml", exitUsage, "needs --tsa"},
		{"--tsa without b-t", []string{"--tsa", good}, "doc.xml", exitUsage, "applies to --level b-t"},
		{"unknown level", []string{"--level", "b-x", "--tsa", good}, "doc.xml", exitUsage, "unknown --level"},
		{"b-lta without --tsa", []string{"--level", "b-lta"}, "doc.xml", exitUsage, "--level b-lta needs --tsa"},
		{"not a URL", []string{"--level", "b-t", "--tsa", "ftp://x"}, "doc.xml", exitUsage, "not an http(s) URL"},
		{"TSA down", []string{"--level", "b-t", "--tsa", p.TSA(t, testpki.TSAHTTP500)}, "doc.xml", exitFailed, "tsa: no time-stamping authority answered"},
		{"TSA with a wrong nonce", []string{"--level", "b-t", "--tsa", p.TSA(t, testpki.TSAWrongNonce)}, "doc.xml", exitFailed, "nonce"},
		{"TSA not chained to --tsa-trust", []string{"--level", "b-t", "--tsa", good, "--tsa-trust", f.path("attacker.pem")}, "doc.xml", exitFailed, "certificate signed by unknown authority"},
		{"PAdES b-t, TSA down", []string{"--level", "b-t", "--tsa", p.TSA(t, testpki.TSAHTTP500)}, "in.pdf", exitFailed, "no time-stamping authority answered"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"sign", "--key", f.path("rsa.key"), "--cert", f.path("rsa.pem")}, tc.args...)
			args = append(args, f.path(tc.in), "-o", f.path("out"))
			code, _, stderr := ts(t, args...)
			if code != tc.code || !strings.Contains(stderr, tc.error) {
				t.Fatalf("exit %d, want %d; stderr %q, want %q", code, tc.code, stderr, tc.error)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") > 1 { // the message, then "Run 'trustsign help'" for usage errors
				t.Errorf("more than one line of error: %q", stderr)
			}
			if _, err := os.Stat(f.path("out")); err == nil {
				t.Errorf("an output was written")
			}
		})
	}
}

// TestSignPAdESBT: `sign --level b-t` on a PDF embeds the signature time-stamp, and verify reports PAdES-B-T.
func TestSignPAdESBT(t *testing.T) {
	f := newFixture(t)
	p := testpki.New()
	pdf := f.path("in.pdf")
	if err := os.WriteFile(pdf, pdftest.Build(pdftest.Simple(1, "Wniosek"), 1, pdftest.Options{}), 0o644); err != nil {
		t.Fatal(err)
	}
	out := f.path("bt.pdf")
	if code, _, stderr := ts(t, "sign", "--key", f.path("rsa.key"), "--cert", f.path("rsa.pem"), "--level", "b-t",
		"--tsa", p.TSA(t, testpki.TSAGood), pdf, "-o", out); code != 0 {
		t.Fatalf("sign: exit %d %s", code, stderr)
	}
	code, stdout, stderr := ts(t, "verify", "--trust", f.path("root.pem"), "--intermediates", f.path("inter.pem"), "--json", out)
	if code != 0 || !strings.Contains(stdout, `"level":"PAdES-B-T"`) || !strings.Contains(stdout, `"kind":"signature"`) {
		t.Errorf("verify: exit %d %s %s", code, stdout, stderr)
	}
}
