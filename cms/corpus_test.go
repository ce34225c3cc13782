package cms

import (
	"bufio"
	"crypto"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/interoptest"
)

// corpusSignature is one signature of a corpus PDF: its ByteRange, the decoded /Contents and the digest callback
// over the covered bytes.
type corpusSignature struct {
	byteRange     [4]int
	contents      []byte // the /Contents hex string of the same signature dictionary, decoded
	gapIsContents bool   // the ByteRange gap is exactly that hex string
	beyondEOF     bool   // the ByteRange reaches past the end of the file (hashed up to the end)
	digest        func(crypto.Hash) ([]byte, error)
}

var (
	byteRangeRE = regexp.MustCompile(`/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]`)
	contentsRE  = regexp.MustCompile(`/Contents\s*<([0-9A-Fa-f\s]*)>`)
)

// corpusSignatures finds the signatures of a PDF the way a test can: every distinct /ByteRange array, the
// /Contents hex string nearest to it (the same signature dictionary), and the bytes the ByteRange covers.
func corpusSignatures(t *testing.T, pdf []byte) []corpusSignature {
	t.Helper()
	contents := contentsRE.FindAllSubmatchIndex(pdf, -1)
	var out []corpusSignature
	seen := map[[4]int]bool{}
	for _, m := range byteRangeRE.FindAllSubmatchIndex(pdf, -1) {
		var br [4]int
		for i := range br {
			n, err := strconv.Atoi(string(pdf[m[2+2*i]:m[3+2*i]]))
			if err != nil {
				t.Fatal(err)
			}
			br[i] = n
		}
		if seen[br] {
			continue // an incremental update re-wrote the same signature dictionary
		}
		seen[br] = true
		a, b, c, d := br[0], br[1], br[2], br[3]
		s := corpusSignature{byteRange: br}
		if a != 0 || b < 0 || c < b || d < 0 || c > len(pdf) {
			t.Fatalf("ByteRange %v unusable in the %d-byte file", br, len(pdf))
		}
		if c+d > len(pdf) {
			s.beyondEOF, d = true, len(pdf)-c
		}
		s.digest = func(h crypto.Hash) ([]byte, error) {
			w := h.New()
			w.Write(pdf[a : a+b])
			w.Write(pdf[c : c+d])
			return w.Sum(nil), nil
		}
		// The /Contents of this signature: the one filling the gap exactly, else the one starting where the gap
		// starts, else the one nearest to the /ByteRange (both sit in the same dictionary).
		best, bestScore := -1, 0
		for i, cm := range contents {
			score := 3 * len(pdf)
			switch {
			case cm[2]-1 == b && cm[3]+1 == c:
				score = 0
			case cm[2]-1 == b:
				score = 1
			default:
				score = 2 + abs(cm[0]-m[0])
			}
			if best < 0 || score < bestScore {
				best, bestScore = i, score
			}
		}
		if best >= 0 {
			cm := contents[best]
			hexText := strings.Join(strings.Fields(string(pdf[cm[2]:cm[3]])), "")
			raw, err := hex.DecodeString(hexText)
			if err != nil {
				t.Fatalf("/Contents of %v: %v", br, err)
			}
			s.contents = raw
			s.gapIsContents = cm[2]-1 == b && cm[3]+1 == c
		}
		out = append(out, s)
	}
	return out
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// TestCorpusPDFSignatures parses and verifies the CMS of every signature in ../shared/corpus/pdf. The PDF-level
// verdicts of expectations.tsv (incremental updates, ByteRange shape) are not this package's business; what is:
// every signature of a valid-crypto file verifies, and the CMS facts of the invalid ones are the expected ones.
func TestCorpusPDFSignatures(t *testing.T) {
	dir := interoptest.CorpusDir(t)
	expected := readExpectations(t, filepath.Join(dir, "expectations.tsv"))

	// CMS-level outcome per file and signature, beyond "valid-crypto: everything verifies".
	type sigWant struct {
		intact      bool // parsed, signer found, digest and signature verified, content type and reference fine
		digestWrong bool // parsed, signature over the attributes verifies, but the digest does not match
		badGap      bool // the ByteRange gap is not exactly the /Contents string (a PDF-level defect)
		beyondEOF   bool // the ByteRange reaches past the end of the file
	}
	cmsOutcome := map[string][]sigWant{
		// 10 bytes removed after signing: the ByteRange no longer fits the file.
		"pdf/dss-pdf-signed-corrupted.pdf": {{digestWrong: true, beyondEOF: true}},
		// The second ByteRange does not line up with its /Contents.
		"pdf/dss-pdf-byterange-overlap.pdf": {{intact: true}, {digestWrong: true, badGap: true}},
		// PDF-level attacks: the CMS itself is intact.
		"pdf/dss-pdf-signed-added-page.pdf":                             {{intact: true}},
		"pdf/dss-pades-spoofing-replaced-reason.pdf":                    {{intact: true}},
		"pdf/pyhanko-form-update-override-appearance-stream-sneaky.pdf": {{intact: true}, {intact: true}},
		"pdf/pyhanko-signature-gap-too-big.pdf":                         {{intact: true, badGap: true}},
	}
	// Specific facts the brief and the corpus notes call out.
	special := map[string]func(t *testing.T, sd *SignedData, r *Result){
		"pdf/pyhanko-sig-no-signed-attrs.pdf": func(t *testing.T, sd *SignedData, r *Result) {
			want(t, "HasSignedAttributes", sd.SignerInfo.HasSignedAttributes, false)
			want(t, "Level PKCS7", r.Level == LevelPKCS7, true)
		},
		"pdf/synthetic-pz-digestinfo-without-null.pdf": func(t *testing.T, sd *SignedData, r *Result) {
			want(t, "DigestInfo without NULL", r.DigestInfoForm == DigestInfoWithoutNULL, true)
			want(t, "Level PAdES baseline", r.Level == LevelPAdESBaseline, true)
		},
		"pdf/dss-DSS-2025.pdf": func(t *testing.T, sd *SignedData, r *Result) {
			want(t, "BER", sd.BER, true)
			v2 := sd.SignerInfo.SigningCertificateV2
			want(t, "signing certificate referenced twice", v2 != nil && len(v2.Certs) == 2, true)
			want(t, "SigningCertificateMatch", r.SigningCertificateMatch, true)
			want(t, "Level CAdES baseline (signing-time present)", r.Level == LevelCAdESBaseline, true)
		},
		"pdf/pyhanko-minimal-signed-twice-no-sig-type.pdf": func(t *testing.T, sd *SignedData, r *Result) {
			if r.Algorithm != "ECDSA-SHA384" || r.SignerCert == nil || r.SignerCert.PublicKey == nil {
				t.Errorf("algorithm %q", r.Algorithm)
			}
		},
		"pdf/dss-DSS-3226.pdf": func(t *testing.T, sd *SignedData, r *Result) {
			want(t, "legacy sha256WithRSAEncryption", sd.SignerInfo.SignatureAlgorithm == "sha256WithRSAEncryption", true)
		},
	}

	files, err := filepath.Glob(filepath.Join(dir, "pdf", "*.pdf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus PDFs in %s: %v", dir, err)
	}
	for _, file := range files {
		rel := "pdf/" + filepath.Base(file)
		t.Run(filepath.Base(file), func(t *testing.T) {
			pdf, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			sigs := corpusSignatures(t, pdf)
			if len(sigs) == 0 {
				t.Fatal("no signature found")
			}
			wants, listed := cmsOutcome[rel]
			if !listed {
				if expected[rel] != "valid-crypto" {
					t.Fatalf("%s is %q in expectations.tsv but has no CMS outcome here", rel, expected[rel])
				}
				for range sigs {
					wants = append(wants, sigWant{intact: true})
				}
			}
			if len(wants) != len(sigs) {
				t.Fatalf("%d signatures, want %d", len(sigs), len(wants))
			}
			for i, s := range sigs {
				w := wants[i]
				if s.contents == nil {
					t.Errorf("signature %d %v: no /Contents hex string", i, s.byteRange)
					continue
				}
				if s.beyondEOF != w.beyondEOF {
					t.Errorf("signature %d %v: beyond the end of the file: %v, want %v", i, s.byteRange, s.beyondEOF, w.beyondEOF)
				}
				if s.gapIsContents == w.badGap {
					t.Errorf("signature %d %v: gap is exactly /Contents: %v, want %v", i, s.byteRange, s.gapIsContents, !w.badGap)
				}
				sd, err := Parse(s.contents)
				if err != nil {
					t.Errorf("signature %d %v: Parse: %v", i, s.byteRange, err)
					continue
				}
				r, err := sd.Verify(s.digest)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("signature %d: %s, %s, %d certificates, signer %q, ref %v, BER %v, %d zero bytes of padding, weak %v",
					i, r.Algorithm, r.Level, len(sd.Certificates), subject(r), r.SigningCertificateRef, sd.BER, sd.TrailingZeros, r.Weak)
				switch {
				case w.intact:
					if pr := r.Problems(); pr != nil {
						t.Errorf("signature %d: %v (signature error: %v)", i, pr, r.SignatureErr)
					}
				case w.digestWrong:
					want(t, "DigestOK", r.DigestOK, false)
					want(t, "SignatureOK", r.SignatureOK, true)
				}
				if check := special[rel]; check != nil {
					check(t, sd, r)
				}
			}
		})
	}
}

func subject(r *Result) string {
	if r.SignerCert == nil {
		return ""
	}
	return r.SignerCert.Subject.CommonName
}

// readExpectations maps "pdf/NAME.pdf" to the expected verdict of ../shared/corpus/expectations.tsv.
func readExpectations(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) >= 3 && strings.HasPrefix(cols[0], "pdf/") {
			out[cols[0]] = cols[2]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
