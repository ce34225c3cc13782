package audit_test

import (
	"strings"
	"testing"

	"github.com/trustsign/trustsign/audit"
)

// FuzzVerifyJSONLines: any input either verifies or is a *BrokenError; nothing panics.
func FuzzVerifyJSONLines(f *testing.F) {
	l := &memLog{}
	fill(f, l, 3, nil, 0)
	var b strings.Builder
	for _, r := range l.recs {
		b.Write(r)
		b.WriteByte('\n')
	}
	f.Add(b.String())
	f.Add("")
	f.Add("{}\n")
	f.Add(`{"seq":1,"time":"x","kind":"","actor":"","subject":"","details":null,"prevHash":"","hash":""}` + "\n")
	f.Add(strings.Repeat("[", 10000))
	f.Fuzz(func(t *testing.T, in string) {
		_, err := audit.VerifyJSONLines(strings.NewReader(in), audit.VerifyOptions{})
		if err != nil {
			if _, ok := err.(*audit.BrokenError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
		}
	})
}
