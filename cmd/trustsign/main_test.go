package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/verify"
)

// fixture writes the test PKI, a profile and a sample document into a temporary folder.
type fixture struct {
	dir string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	if err := testpki.New().WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "profile.json"), `{"firstName":"ANNA","surname":"TESTOWA-ŻÓŁĆ","pesel":"44051401359","profileId":"987654321","login":"atestowa"}`)
	write(t, filepath.Join(dir, "doc.xml"), `<?xml version="1.0" encoding="UTF-8"?>
<recepta xmlns="urn:example:recepta"><lek>Amoxicillinum 500 mg</lek><pacjent>Jan Testowy</pacjent></recepta>
`)
	return &fixture{dir: dir}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) path(name string) string { return filepath.Join(f.dir, name) }

// ts runs the command line in-process.
func ts(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func (f *fixture) sign(t *testing.T, id string, extra ...string) string {
	t.Helper()
	out := f.path("signed-" + id + ".xml")
	args := append([]string{"sign", "--key", f.path("rsa.key"), "--cert", f.path("rsa.pem"), "--chain", f.path("inter.pem")}, extra...)
	args = append(args, f.path("doc.xml"), "-o", out)
	if code, _, stderr := ts(t, args...); code != 0 {
		t.Fatalf("sign exit %d: %s", code, stderr)
	}
	return out
}

func (f *fixture) verifyJSON(t *testing.T, files ...string) (int, []verify.FileReport) {
	t.Helper()
	code, out, _ := ts(t, append([]string{"verify", "--trust", f.path("root.pem"), "--intermediates", f.path("inter.pem"), "--json"}, files...)...)
	var reps []verify.FileReport
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var r verify.FileReport
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("not JSON Lines: %v\n%s", err, out)
		}
		reps = append(reps, r)
	}
	return code, reps
}

func TestHelpListsSubcommands(t *testing.T) {
	code, out, _ := ts(t, "help")
	if code != 0 {
		t.Fatalf("help exit %d", code)
	}
	for _, sub := range []string{"sign", "verify", "version"} {
		if !strings.Contains(out, sub) {
			t.Errorf("help does not list %s", sub)
		}
		if code, out, _ := ts(t, sub, "-h"); code != 0 || !strings.Contains(out, "Usage") {
			t.Errorf("%s -h: exit %d", sub, code)
		}
	}
}

func TestFlagsBeforeOrAfterArguments(t *testing.T) {
	f := newFixture(t)
	for i, args := range [][]string{
		{"sign", f.path("doc.xml"), "--key", f.path("ec.key"), "--cert", f.path("ec.pem"), "-o", f.path("a.xml")},
		{"sign", "-o", f.path("b.xml"), "--key", f.path("ec.key"), "--cert", f.path("ec.pem"), f.path("doc.xml")},
	} {
		if code, _, stderr := ts(t, args...); code != 0 {
			t.Fatalf("form %d: exit %d: %s", i, code, stderr)
		}
	}
	for _, out := range []string{"a.xml", "b.xml"} {
		if code, _, _ := ts(t, "verify", f.path(out), "--trust", f.path("root.pem"), "--intermediates", f.path("inter.pem")); code != 0 {
			t.Errorf("verify %s: exit %d", out, code)
		}
	}
}

func TestVerifyExitCodes(t *testing.T) {
	f := newFixture(t)
	signed := f.sign(t, "env", "--profile", f.path("profile.json"))
	raw, _ := os.ReadFile(signed)
	write(t, f.path("tampered.xml"), strings.Replace(string(raw), "500 mg", "1000 mg", 1))
	write(t, f.path("none.xml"), `<a>no signature</a>`)
	write(t, f.path("broken.xml"), `<a><b></a>`)
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"passed", []string{"verify", "--trust", f.path("root.pem"), signed}, 0},
		{"tampered", []string{"verify", "--trust", f.path("root.pem"), f.path("tampered.xml")}, 1},
		{"malformed", []string{"verify", "--trust", f.path("root.pem"), f.path("broken.xml")}, 1},
		{"unknown root", []string{"verify", "--trust", f.path("attacker.pem"), signed}, 2},
		{"no signature", []string{"verify", "--trust", f.path("root.pem"), f.path("none.xml")}, 3},
		{"usage: unknown flag", []string{"verify", "--no-such-flag", signed}, 64},
		{"usage: no files", []string{"verify", "--trust", f.path("root.pem")}, 64},
		{"unreadable", []string{"verify", "--trust", f.path("root.pem"), f.path("missing.xml")}, 66},
		{"worst wins", []string{"verify", "--trust", f.path("root.pem"), signed, f.path("none.xml"), f.path("tampered.xml")}, 1},
		{"indeterminate beats no signature", []string{"verify", "--trust", f.path("attacker.pem"), f.path("none.xml"), signed}, 2},
		{"sign usage: no output", []string{"sign", "--key", f.path("rsa.key"), "--cert", f.path("rsa.pem"), f.path("doc.xml")}, 64},
		{"sign: key not matching (data error, not usage)", []string{"sign", "--key", f.path("ec.key"), "--cert", f.path("rsa.pem"), f.path("doc.xml"), "-o", f.path("x.xml")}, exitDataErr},
		{"sign: output directory missing", []string{"sign", "--key", f.path("rsa.key"), "--cert", f.path("rsa.pem"), f.path("doc.xml"), "-o", f.path("no/dir/x.xml")}, exitCantCreate},
		{"sign: missing input", []string{"sign", "--key", f.path("rsa.key"), "--cert", f.path("rsa.pem"), f.path("nope.xml"), "-o", f.path("x.xml")}, 66},
		{"unknown command", []string{"frobnicate"}, 64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := ts(t, tc.args...)
			if code != tc.want {
				t.Fatalf("exit %d, want %d (%s)", code, tc.want, stderr)
			}
			if code == 64 && !strings.HasPrefix(stderr, "trustsign: ") {
				t.Errorf("usage error without a one-line message: %q", stderr)
			}
		})
	}
}

func TestVerifyJSONReport(t *testing.T) {
	f := newFixture(t)
	signed := f.sign(t, "env", "--profile", f.path("profile.json"))
	code, reps := f.verifyJSON(t, signed, signed)
	if code != 0 || len(reps) != 2 {
		t.Fatalf("exit %d, %d reports (JSON Lines, one per file)", code, len(reps))
	}
	r := reps[0]
	if r.Indication != verify.TotalPassed || r.Format != "xades" || len(r.Signatures) != 1 {
		t.Fatalf("report %+v", r)
	}
	s := r.Signatures[0]
	if s.TrustedProfile == nil || s.TrustedProfile.PESEL != "44051401359" || s.TrustedProfile.Surname != "TESTOWA-ŻÓŁĆ" {
		t.Errorf("trusted profile %+v", s.TrustedProfile)
	}
	if want := (verify.Checks{Structure: verify.Passed, Digests: verify.Passed, SignatureValue: verify.Passed, SigningCertificate: verify.Passed, Chain: verify.Passed}); s.Checks != want {
		t.Errorf("checks %+v", s.Checks)
	}
	if s.Signer == nil || !strings.Contains(s.Signer.Subject, "CN=") || s.Signer.Serial == "" || s.SigningTime == nil {
		t.Errorf("signer/time %+v %v", s.Signer, s.SigningTime)
	}
	if len(s.Covered) == 0 || !strings.Contains(s.Covered[0], "whole document") {
		t.Errorf("covered %v", s.Covered)
	}
	// the exact field names of the contract
	_, out, _ := ts(t, "verify", "--trust", f.path("root.pem"), "--json", signed)
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"file", "format", "indication", "signatures"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("missing %q", k)
		}
	}
	sig := raw["signatures"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "indication", "subIndication", "signer", "signingTime", "trustedProfile", "covered", "checks"} {
		if _, ok := sig[k]; !ok && k != "subIndication" {
			t.Errorf("signature lacks %q", k)
		}
	}
	for _, k := range []string{"subject", "issuer", "serial", "notBefore", "notAfter"} {
		if _, ok := sig["signer"].(map[string]any)[k]; !ok {
			t.Errorf("signer lacks %q", k)
		}
	}
	for _, k := range []string{"firstName", "surname", "pesel", "profileId", "login"} {
		if _, ok := sig["trustedProfile"].(map[string]any)[k]; !ok {
			t.Errorf("trustedProfile lacks %q", k)
		}
	}
}

func TestSignWrappedBinary(t *testing.T) {
	f := newFixture(t)
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0, 1, 2, 250}, 3000)...)
	if err := os.WriteFile(f.path("scan.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	out := f.path("scan.xml")
	if code, _, stderr := ts(t, "sign", "--key", f.path("rsa.key"), "--cert", f.path("rsa.pem"), "--profile", f.path("profile.json"), f.path("scan.png"), "-o", out); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	code, reps := f.verifyJSON(t, out)
	if code != 0 {
		t.Fatalf("verify exit %d", code)
	}
	w := reps[0].Signatures[0].WrappedFile
	if w == nil || w.Name != "scan.png" || w.MIMEType != "image/png" || w.Size != int64(len(png)) || len(w.SHA256) != 64 {
		t.Fatalf("wrapped file %+v", w)
	}
	_, human, _ := ts(t, "verify", "--trust", f.path("root.pem"), "--intermediates", f.path("inter.pem"), out)
	if !strings.Contains(human, "scan.png") || !strings.Contains(human, "TOTAL_PASSED") {
		t.Errorf("human report:\n%s", human)
	}
}

func TestSignProfileValidation(t *testing.T) {
	f := newFixture(t)
	write(t, f.path("bad-pesel.json"), `{"firstName":"A","surname":"B","pesel":"44051401358","profileId":"1","login":"a"}`)
	write(t, f.path("missing.json"), `{"firstName":"A","pesel":"44051401359","profileId":"1","login":"a"}`)
	write(t, f.path("unknown.json"), `{"firstName":"A","surname":"B","pesel":"44051401359","profileId":"1","login":"a","x":1}`)
	for _, p := range []string{"bad-pesel.json", "missing.json", "unknown.json"} {
		code, _, stderr := ts(t, "sign", "--key", f.path("rsa.key"), "--cert", f.path("rsa.pem"), "--profile", f.path(p), f.path("doc.xml"), "-o", f.path("x.xml"))
		// the profile's content is wrong, not the command line: a data error, not a usage error
		if code != exitDataErr || strings.Count(strings.TrimSpace(stderr), "\n") > 1 {
			t.Errorf("%s: exit %d, stderr %q", p, code, stderr)
		}
		if _, err := os.Stat(f.path("x.xml")); err == nil {
			t.Errorf("%s: output written despite the error", p)
		}
	}
}

func TestCoSignAndDetached(t *testing.T) {
	f := newFixture(t)
	first := f.sign(t, "first", "--profile", f.path("profile.json"))
	co := f.path("co.xml")
	if code, _, stderr := ts(t, "sign", "--key", f.path("ec.key"), "--cert", f.path("ec.pem"), "--format", "xades", first, "-o", co); code != 0 {
		t.Fatalf("co-sign: %d %s", code, stderr)
	}
	code, reps := f.verifyJSON(t, co)
	if code != 0 || len(reps[0].Signatures) != 2 {
		t.Fatalf("co-signed: exit %d, %d signatures", code, len(reps[0].Signatures))
	}
	det := f.path("det.xml")
	if code, _, stderr := ts(t, "sign", "--key", f.path("rsa.key"), "--cert", f.path("rsa.pem"), "--format", "xades-detached", f.path("doc.xml"), "-o", det); code != 0 {
		t.Fatalf("detached: %d %s", code, stderr)
	}
	if code, _, _ := ts(t, "verify", "--trust", f.path("root.pem"), "--intermediates", f.path("inter.pem"), "--detached-content", f.path("doc.xml"), det); code != 0 {
		t.Errorf("detached with content: exit %d", code)
	}
	if code, _, _ := ts(t, "verify", "--trust", f.path("root.pem"), "--intermediates", f.path("inter.pem"), det); code != 2 {
		t.Errorf("detached without content: exit %d, want 2 (SIGNED_DATA_NOT_FOUND)", code)
	}
}

func TestSignRSAPSS(t *testing.T) {
	f := newFixture(t)
	signed := f.sign(t, "pss", "--rsa-pss")
	code, reps := f.verifyJSON(t, signed)
	if code != exitOK || len(reps) != 1 || !strings.Contains(reps[0].Signatures[0].Algorithm, "PSS") {
		t.Fatalf("exit %d %+v", code, reps)
	}
	if code, _, _ := ts(t, "sign", "--key", f.path("ec.key"), "--cert", f.path("ec.pem"), "--rsa-pss", f.path("doc.xml"), "-o", f.path("x.xml")); code != exitUsage {
		t.Errorf("--rsa-pss with an EC key: exit %d", code)
	}
}
