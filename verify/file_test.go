package verify

import (
	"bytes"
	"context"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/xades"
)

func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		name string
		head string
		want Format
	}{
		{"PDF", "%PDF-1.7\n%âãÏÓ\n1 0 obj", FormatPDF},
		{"PDF after junk", strings.Repeat("x", 500) + "%PDF-1.4\n", FormatPDF},
		{"PDF header beyond 1024 bytes", strings.Repeat("x", 1030) + "%PDF-1.4\n", FormatUnknown},
		{"XML", `<?xml version="1.0"?><a/>`, FormatXML},
		{"XML with BOM and space", "\xef\xbb\xbf \n<a/>", FormatXML},
		{"XML mentioning %PDF- early", `<a>%PDF-1.7 is a header</a>`, FormatXML},
		{"PDF with XML-looking junk after the header", "%PDF-1.7\n<a/>", FormatPDF},
		{"empty", "", FormatUnknown},
		{"binary", "\x00\x01\x02", FormatUnknown},
		{"PNG", "\x89PNG\r\n\x1a\n", FormatUnknown},
		{"JSON", `{"a":1}`, FormatUnknown},
		{"UTF-16 XML", "\xff\xfe<\x00a\x00/\x00>\x00", FormatXML},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Sniff([]byte(tc.head)); got != tc.want {
				t.Errorf("Sniff = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFileOneEntryPoint(t *testing.T) {
	pki := testpki.New()
	p := &Policy{Roots: []*x509.Certificate{pki.Root}}
	signed, err := xades.Sign([]byte(`<a>x</a>`), xades.SignOptions{Signer: pki.EC256.Key, Certificate: pki.EC256.Cert, Chain: pki.EC256.Chain})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		data   []byte
		format string
		ind    Indication
	}{
		{"signed XML", signed, "xades", TotalPassed},
		{"signed XML with a BOM", append([]byte("\xef\xbb\xbf"), signed...), "xades", TotalPassed},
		{"not a document", []byte("hello"), "unknown", NoSignature},
		{"empty", []byte{}, "unknown", NoSignature},
		{"PNG", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "unknown", NoSignature},
		{"malformed XML", []byte("<a><b></a>"), "xades", TotalFailed},
		{"PDF that is not readable", []byte("%PDF-1.7\ngarbage"), "pades", TotalFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := File(context.Background(), "f", bytes.NewReader(tc.data), int64(len(tc.data)), p, Options{})
			b := Bytes(context.Background(), "f", tc.data, p, Options{})
			if a.Format != tc.format || a.Indication != tc.ind {
				t.Errorf("File: %s %s, want %s %s (%s)", a.Format, a.Indication, tc.format, tc.ind, a.Error)
			}
			if b.Format != a.Format || b.Indication != a.Indication {
				t.Errorf("Bytes: %s %s, File: %s %s", b.Format, b.Indication, a.Format, a.Indication)
			}
			if a.ValidationTime == nil {
				t.Error("no validation time")
			}
		})
	}
	big := File(context.Background(), "big.xml", bytes.NewReader(signed), int64(len(signed)), p, Options{MaxXMLBytes: 100})
	if big.Indication != TotalFailed || !strings.Contains(big.Error, "limit") {
		t.Errorf("over the XML limit: %s %q", big.Indication, big.Error)
	}
}
