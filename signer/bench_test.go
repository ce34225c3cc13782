//go:build cgo

package signer_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"io"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/pdf/pdftest"
	"github.com/trustsign/trustsign/signer"
	"github.com/trustsign/trustsign/signer/softhsmtest"
	"github.com/trustsign/trustsign/xades"
)

// BenchmarkSeal is sealing throughput as the service seals, with an ECDSA P-256 seal, from as many goroutines as
// GOMAXPROCS: enveloped XAdES of a 10 KB document, and PAdES of a one-page PDF (with the visible stamp). "file"
// holds the key in memory (a PEM seal), "softhsm" in a SoftHSM2 token, where every signature is also verified
// with the certificate's key. bench/hsm.sh runs the pairs in turn and prints their ratios.
func BenchmarkSeal(b *testing.B) {
	pki := testpki.New()
	var row strings.Builder
	row.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<recepta xmlns=\"urn:example:recepta\">\n")
	for row.Len() < 10<<10 {
		row.WriteString("  <lek><nazwa>Amoxicillinum 500 mg</nazwa><dawka>1 tabl. co 8 godzin przez 7 dni</dawka></lek>\n")
	}
	row.WriteString("</recepta>\n")
	xml := []byte(row.String())
	pdfDoc := pdftest.Build(pdftest.Simple(1, "Wniosek"), 1, pdftest.Options{})
	seal := map[string]func(b *testing.B, key crypto.Signer) error{
		"xades-10KB": func(b *testing.B, key crypto.Signer) error {
			_, err := xades.Sign(xml, xades.SignOptions{Signer: key, Certificate: pki.EC256.Cert, Chain: pki.EC256.Chain[1:], Format: xades.Enveloped})
			return err
		},
		"pades-1page": func(b *testing.B, key crypto.Signer) error {
			_, err := pades.Sign(context.Background(), bytes.NewReader(pdfDoc), int64(len(pdfDoc)), io.Discard,
				pades.SignOptions{Signer: key, Certificate: pki.EC256.Cert, Chain: pki.EC256.Chain[1:]})
			return err
		},
	}
	keys := map[string]func(b *testing.B) crypto.Signer{
		"file": func(*testing.B) crypto.Signer { return pki.EC256.Key },
		"softhsm": func(b *testing.B) crypto.Signer {
			tok := softhsmtest.New(b)
			signer.ResetPKCS11Modules()
			b.Cleanup(signer.ResetPKCS11Modules)
			tok.Import(b, "seal", "01", pki.EC256.Key)
			uri, err := signer.ParsePKCS11URI(tok.URI("seal"))
			if err != nil {
				b.Fatal(err)
			}
			key, err := signer.OpenPKCS11(uri, signer.PKCS11Options{Public: pki.EC256.Cert.PublicKey})
			if err != nil {
				b.Fatal(err)
			}
			return key
		},
	}
	for _, format := range []string{"xades-10KB", "pades-1page"} {
		for _, kind := range []string{"file", "softhsm"} {
			b.Run(format+"/"+kind, func(b *testing.B) {
				key := keys[kind](b)
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := seal[format](b, key); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "seals/s")
			})
		}
	}
}

// BenchmarkSignP256 is one ECDSA P-256 signature of a digest: in memory, and in a SoftHSM2 token (with the
// check against the certificate's key that every token signature gets).
func BenchmarkSignP256(b *testing.B) {
	pki := testpki.New()
	digest := make([]byte, 32)
	run := func(b *testing.B, key crypto.Signer) {
		for b.Loop() {
			if _, err := key.Sign(rand.Reader, digest, crypto.SHA256); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("file", func(b *testing.B) { run(b, pki.EC256.Key) })
	b.Run("softhsm", func(b *testing.B) {
		tok := softhsmtest.New(b)
		signer.ResetPKCS11Modules()
		b.Cleanup(signer.ResetPKCS11Modules)
		tok.Import(b, "seal", "01", pki.EC256.Key)
		uri, _ := signer.ParsePKCS11URI(tok.URI("seal"))
		key, err := signer.OpenPKCS11(uri, signer.PKCS11Options{Public: pki.EC256.Cert.PublicKey})
		if err != nil {
			b.Fatal(err)
		}
		run(b, key)
	})
}
