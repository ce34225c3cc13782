package verify_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/internal/interoptest"
	"github.com/trustsign/trustsign/verify"
)

func init() {
	// -update rewrites the golden reports (crewjam/saml style); registered once even if another test file of the
	// package registers it first.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files in testdata/golden")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// corpusRow is one line of shared/corpus/expectations.tsv.
type corpusRow struct {
	file, format, expected, why string
}

// xmlCorpus returns the corpus folder and its XML rows.
func xmlCorpus(t *testing.T) (string, []corpusRow) {
	t.Helper()
	dir := interoptest.CorpusDir(t)
	f, err := os.Open(filepath.Join(dir, "expectations.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []corpusRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 4 || cols[0] == "file" || strings.HasPrefix(cols[0], "#") || !strings.HasSuffix(cols[0], ".xml") {
			continue
		}
		rows = append(rows, corpusRow{cols[0], cols[1], cols[2], cols[3]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("no XML rows in expectations.tsv")
	}
	return dir, rows
}

// verifyCorpusFile verifies one corpus file the way the acceptance script runs the CLI: a file in a folder of its
// own is a detached signature whose content is the other file of that folder.
func verifyCorpusFile(t *testing.T, dir, file string, p *verify.Policy) verify.FileReport {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	var o verify.XMLOptions
	if sub := path.Dir(file); strings.Contains(sub, "/") {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Name() == path.Base(file) || strings.HasSuffix(e.Name(), ".json") || e.IsDir() {
				continue
			}
			content, err := os.ReadFile(filepath.Join(dir, sub, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			o.Detached = map[string][]byte{e.Name(): content}
			break
		}
	}
	return verify.XML(file, data, p, o)
}

// jsonView is the part of the JSON report the acceptance script reads.
type jsonView struct {
	Indication string `json:"indication"`
	Signatures []struct {
		SubIndication string            `json:"subIndication"`
		Checks        map[string]string `json:"checks"`
		Modified      bool              `json:"modified"`
	} `json:"signatures"`
}

// TestXMLCorpus checks every XML row of shared/corpus/expectations.tsv with an empty trust store, by the rule of
// the acceptance script (acceptance/lib/corpus.sh), applied to the JSON report:
//   - valid-crypto: every signatureValue "passed", not TOTAL_FAILED (nor no signature at all);
//   - invalid: not TOTAL_PASSED, and TOTAL_FAILED or a failed non-chain check (or a reported change);
//   - indeterminate: INDETERMINATE for a reason of its own: a non-chain check not "passed", or a sub-indication
//     other than NO_CERTIFICATE_CHAIN_FOUND.
func TestXMLCorpus(t *testing.T) {
	dir, rows := xmlCorpus(t)
	for _, row := range rows {
		t.Run(strings.TrimPrefix(row.file, "xml/"), func(t *testing.T) {
			rep := verifyCorpusFile(t, dir, row.file, &verify.Policy{})
			b, err := json.Marshal(rep)
			if err != nil {
				t.Fatal(err)
			}
			var v jsonView
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatal(err)
			}
			if row.format != rep.Format {
				t.Errorf("format %q, want %q", rep.Format, row.format)
			}
			nfail, nopen, subs := 0, 0, 0
			for _, s := range v.Signatures {
				for k, c := range s.Checks {
					if k != "chain" && c == "failed" {
						nfail++
					}
					if k != "chain" && c != "passed" {
						nopen++
					}
				}
				if s.SubIndication != "" && s.SubIndication != string(verify.NoCertificateChainFound) {
					subs++
				}
			}
			switch row.expected {
			case "valid-crypto":
				ok := v.Indication != string(verify.TotalFailed) && v.Indication != string(verify.NoSignature) && len(v.Signatures) > 0
				for _, s := range v.Signatures {
					ok = ok && s.Checks["signatureValue"] == "passed"
				}
				if !ok {
					t.Errorf("want crypto valid (%s)\n%s", row.why, b)
				}
			case "invalid":
				changed := false
				for _, s := range v.Signatures {
					changed = changed || s.Modified
				}
				if v.Indication == string(verify.TotalPassed) || !(v.Indication == string(verify.TotalFailed) || nfail > 0 || changed) {
					t.Errorf("want the defect named (%s)\n%s", row.why, b)
				}
			case "indeterminate":
				if v.Indication != string(verify.Indeterminate) || (nopen == 0 && subs == 0) {
					t.Errorf("want indeterminate for its own reason (%s)\n%s", row.why, b)
				}
			default:
				t.Fatalf("unknown expectation %q", row.expected)
			}
		})
	}
}

// The JSON reports of a few corpus files are pinned in testdata/golden (go test -run TestXMLReportGolden -update
// rewrites them). The corpus is fixed and the trust store empty, so nothing in them depends on the day of the run;
// the validation time is pinned all the same.
func TestXMLReportGolden(t *testing.T) {
	dir, _ := xmlCorpus(t)
	now := time.Date(2027, 6, 1, 12, 0, 0, 0, time.UTC) // after every signing time in the corpus
	for _, file := range []string{
		"xml/dss-signed.xml",                           // enveloped XAdES, chain unknown
		"xml/dss-XSW-enveloping-fake-object.xml",       // signature wrapping
		"xml/dss-xades-counter-signature-injected.xml", // counter-signature over another value
		"xml/dss-xmldsig-only.xml",                     // KeyValue only, SHA-1
		"xml/dss-xades-detached/xades-detached.xml",    // detached content from the folder
		"xml/synthetic-pz-digestinfo-without-null.xml", // DigestInfo without NULL
	} {
		t.Run(path.Base(file), func(t *testing.T) {
			rep := verifyCorpusFile(t, dir, file, &verify.Policy{Now: func() time.Time { return now }})
			got, err := json.MarshalIndent(rep, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", "golden", strings.TrimSuffix(path.Base(file), ".xml")+".json")
			if updateGolden() {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("report differs from %s (run with -update if the change is intended)\ngot:\n%s", golden, got)
			}
		})
	}
}
