package verify

import (
	"strings"
	"testing"
)

// TestAttackTimeStampTSANameOnScreen: a TSA certificate subject (attacker-chosen text) cannot rewrite the terminal
// or page that shows the report.
func TestAttackTimeStampTSANameOnScreen(t *testing.T) {
	r := FileReport{Signatures: []SignatureReport{{TimeStamps: []TimeStamp{{Kind: "signature", TSA: "CN=TSA\x1b[2J\u202egnp.exe", Reason: "bad\rOK"}}}}}
	got := r.ForDisplay().Signatures[0].TimeStamps[0]
	if strings.ContainsAny(got.TSA+got.Reason, "\x1b\u202e\r") {
		t.Fatalf("not escaped: %q %q", got.TSA, got.Reason)
	}
	if r.Signatures[0].TimeStamps[0].TSA != "CN=TSA\x1b[2J\u202egnp.exe" {
		t.Fatal("ForDisplay changed the original")
	}
}
