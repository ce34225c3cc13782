package main

import (
	"os"
	"strings"
	"testing"
)

func TestVerifyHTMLReport(t *testing.T) {
	f := newFixture(t)
	signed := f.sign(t, "report", "--profile", f.path("profile.json"))
	tampered := f.path("tampered.xml")
	b, _ := os.ReadFile(signed)
	write(t, tampered, strings.Replace(string(b), "Amoxicillinum", "Amoxicillinux", 1))
	out := f.path("report.html")
	code, _, stderr := ts(t, "verify", "--trust", f.path("root.pem"), "--intermediates", f.path("inter.pem"),
		"--report", out, "--report-lang", "pl", signed, tampered, f.path("missing.xml"))
	if code != exitFailed {
		t.Fatalf("exit %d, want %d (%s)", code, exitFailed, stderr)
	}
	html, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	s := string(html)
	for _, want := range []string{`<html lang="pl">`, "<style>", "Podpis prawidłowy", "Podpis nieprawidłowy", "44051401359",
		"signed-report.xml", "tampered.xml"} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "<link", " src=", "href="} {
		if strings.Contains(s, bad) {
			t.Errorf("report refers outside itself: %q", bad)
		}
	}
	if code, _, _ := ts(t, "verify", "--trust", f.path("root.pem"), "--report", out, "--report-lang", "de", signed); code != exitUsage {
		t.Errorf("--report-lang de: exit %d, want %d", code, exitUsage)
	}
	code, _, stderr = ts(t, "verify", "--trust", f.path("root.pem"), "--report", f.path("no/such/dir/r.html"), signed)
	if code != exitCantCreate || !strings.Contains(stderr, "no such file or directory") {
		t.Errorf("unwritable report: exit %d, want %d with the cause (%s)", code, exitCantCreate, stderr)
	}
}
