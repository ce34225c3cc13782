package xades_test

// Defect 1 of issue 10, "content outside what was verified": whatever the verifier shows or extracts (the wrapped
// file, the trusted-profile identity) must come from the content a reference verified, never from the document as
// parsed, where subtrees excluded from the digest (ds:Signature under XPath Filter 2.0 subtract) can hide anything.

import (
	"bytes"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/internal/xmldoc"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/xades"
)

// wrappedContent is the file signed in the wrapped-file tests (its base64 has no padding, so base64 text inserted
// before it still decodes).
var wrappedContent = []byte("umowa: 100.00 PLN, do zapłaty w 14 dni\n")

// signedWrapped is wrappedContent wrapped and signed enveloped by the RSA signer, as the service does.
func signedWrapped(t testing.TB) string {
	return signWith(t, string(xades.Wrap("umowa.txt", "text/plain", wrappedContent)), testpki.New().RSA, xades.SignOptions{Profile: testProfile})
}

// injectIntoContent puts a ds:Signature holding other base64 data at the start of the wrapper's tsw:Content: the
// genuine signature's XPath Filter 2.0 subtracts every ds:Signature, so its digest does not change.
func injectIntoContent(t testing.TB, doc string, other []byte) string {
	return replaceOne(t, doc, `<tsw:Content>`, `<tsw:Content><ds:Signature xmlns:ds="`+xades.NSDSig+`">`+b64(other)+`</ds:Signature>`)
}

// genuineReport returns the report of the signature with the genuine signer's Id.
func genuineReport(t *testing.T, rep verify.FileReport, id string) verify.SignatureReport {
	t.Helper()
	for _, s := range rep.Signatures {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("no report for signature %s among %d", id, len(rep.Signatures))
	return verify.SignatureReport{}
}

func TestAttackContentOutsideVerifiedWrapper(t *testing.T) {
	genuine := signedWrapped(t)
	id := sigIDs(t, genuine)[0]
	evil := []byte("przelew: 999999.00 PLN") // 22 bytes: its base64 ends in padding, so it is put before the genuine text
	evil = append(evil, 'X', 'Y')            // 24 bytes, no padding
	attacked := injectIntoContent(t, genuine, evil)

	t.Run("report shows the signed file", func(t *testing.T) {
		rep := verify.XML("attack.xml", []byte(attacked), trusting(), verify.XMLOptions{})
		s := genuineReport(t, rep, id)
		checkSignature(t, s, passed)
		if s.WrappedFile == nil {
			t.Fatal("the genuine signature's wrapped file is not reported")
		}
		if s.WrappedFile.SHA256 != xades.WrapperDigest(wrappedContent) || s.WrappedFile.Size != int64(len(wrappedContent)) {
			t.Errorf("wrapped file %+v is not the signed file (%d bytes, %s)", s.WrappedFile, len(wrappedContent),
				xades.WrapperDigest(wrappedContent))
		}
	})
	t.Run("signature result carries the signed file", func(t *testing.T) {
		res, err := xades.Verify([]byte(attacked), xades.VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, s := range res.Signatures {
			if s.ID != id {
				if s.Wrapped != nil {
					t.Errorf("the injected signature %s exposes a wrapped file", s.Path)
				}
				continue
			}
			found = true
			doc := s.References[0]
			if doc.Status != xades.RefOK || doc.NodeSet == nil || len(doc.Verified) == 0 {
				t.Fatalf("document reference: status %v, node-set %v, %d verified bytes", doc.Status, doc.NodeSet != nil, len(doc.Verified))
			}
			if bytes.Contains(doc.Verified, []byte(b64(evil))) || !bytes.Contains(doc.Verified, []byte(b64(wrappedContent)[:40])) {
				t.Errorf("verified content is not the signed document:\n%s", doc.Verified)
			}
			if sp := s.References[1]; !sp.SignedProperties || sp.Status != xades.RefOK || sp.NodeSet != nil ||
				!bytes.HasPrefix(sp.Verified, []byte("<xades:SignedProperties")) {
				t.Errorf("SignedProperties reference: %v, node-set %v, verified %.40q", sp.Status, sp.NodeSet != nil, sp.Verified)
			}
			if s.Wrapped == nil || !bytes.Equal(s.Wrapped.Content, wrappedContent) || s.Wrapped.Name != "umowa.txt" {
				t.Errorf("Wrapped = %+v, want the signed file", s.Wrapped)
			}
		}
		if !found {
			t.Fatal("genuine signature not found")
		}
	})
	t.Run("content of a failed reference is not kept", func(t *testing.T) {
		res, err := xades.Verify([]byte(strings.Replace(genuine, "umowa.txt", "umowa.exe", 1)), xades.VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s := res.Signatures[0]
		if r := s.References[0]; r.Status != xades.RefMismatch || r.Verified != nil || r.NodeSet != nil || s.Wrapped != nil {
			t.Errorf("tampered: status %v, %d verified bytes, node-set %v, wrapped %v", r.Status, len(r.Verified), r.NodeSet != nil, s.Wrapped != nil)
		}
	})
	t.Run("Unwrap refuses", func(t *testing.T) {
		if w, err := xades.Unwrap([]byte(attacked)); err == nil {
			t.Errorf("Unwrap accepted an element inside tsw:Content and returned %q", w.Content)
		}
	})
}

// Co-signatures of a container each give its file (read once: they verified the same content).
func TestWrappedCoSigned(t *testing.T) {
	doc := signWith(t, signedWrapped(t), testpki.New().EC256, xades.SignOptions{})
	res, err := xades.Verify([]byte(doc), xades.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Signatures) != 2 {
		t.Fatalf("%d signatures", len(res.Signatures))
	}
	for i, s := range res.Signatures {
		if !s.SignatureValid || s.Wrapped == nil || !bytes.Equal(s.Wrapped.Content, wrappedContent) {
			t.Errorf("signature %d: valid %v, wrapped %+v", i, s.SignatureValid, s.Wrapped)
		}
	}
	if res.Signatures[0].Wrapped == res.Signatures[1].Wrapped {
		t.Error("the signatures share one *WrappedFile")
	}
}

// signedPropertiesDigest is the SHA-256 of the exclusive C14N of signature id's SignedProperties without the
// subtrees of the elements named (namespace, local name).
func signedPropertiesDigest(t *testing.T, doc, id string, without ...[2]string) []byte {
	t.Helper()
	d := parseDoc(t, doc)
	sp := d.ByID(id + "-signedprops")
	if len(sp) != 1 {
		t.Fatal("crafting: no SignedProperties")
	}
	var exclude []*xmldoc.Node
	sp[0].Descendants(func(n *xmldoc.Node) bool {
		for _, w := range without {
			if n.Is(w[0], w[1]) {
				exclude = append(exclude, n)
				return false
			}
		}
		return true
	})
	h := sha256.Sum256(xmldoc.AppendCanonical(nil, xmldoc.Subset{Doc: d, Apex: sp[0], Exclude: exclude}, xmldoc.Method{Exclusive: true}))
	return h[:]
}

// The wrapper shapes Unwrap refuses: anything but base64 text inside tsw:Content, and duplicated or unknown parts.
func TestUnwrapStrict(t *testing.T) {
	good := string(xades.Wrap("umowa.txt", "text/plain", wrappedContent))
	signed := signedWrapped(t)
	for _, ok := range []string{good, signed} {
		w, err := xades.Unwrap([]byte(ok))
		if err != nil || !bytes.Equal(w.Content, wrappedContent) {
			t.Fatalf("Unwrap of a genuine container: %v", err)
		}
	}
	cases := []struct{ name, doc string }{
		{"element in Content", strings.Replace(good, "<tsw:Content>", "<tsw:Content><x>QUJD</x>", 1)},
		{"comment in Content", strings.Replace(good, "<tsw:Content>", "<tsw:Content><!--QUJD-->", 1)},
		{"processing instruction in Content", strings.Replace(good, "<tsw:Content>", "<tsw:Content><?x QUJD?>", 1)},
		{"second Content", strings.Replace(good, "</tsw:WrappedFile>", "<tsw:Content>QUJD</tsw:Content></tsw:WrappedFile>", 1)},
		{"second FileName", strings.Replace(good, "</tsw:WrappedFile>", "<tsw:FileName>b.exe</tsw:FileName></tsw:WrappedFile>", 1)},
		{"element in FileName", strings.Replace(good, "<tsw:FileName>", "<tsw:FileName><b>x</b>", 1)},
		{"Size does not match", strings.Replace(good, "<tsw:Size>", "<tsw:Size>1", 1)},
		{"unknown element", strings.Replace(good, "</tsw:WrappedFile>", "<tsw:Extra/></tsw:WrappedFile>", 1)},
		{"text beside the parts", strings.Replace(good, "</tsw:WrappedFile>", "QUJD</tsw:WrappedFile>", 1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.doc == good {
				t.Fatal("crafting did not change the container")
			}
			if w, err := xades.Unwrap([]byte(tc.doc)); err == nil {
				t.Errorf("Unwrap accepted it: %+v", w)
			}
		})
	}
}

// A PodpisZP that the SignedProperties reference's transforms leave out is not the signer's identity: the profile
// is read from what the reference verified. Two transform forms, since verifiers differ in which they evaluate:
// subtracting ds:Signature elements (where the SignedProperties are not themselves inside the subtracted subtree
// under this verifier's reading) and subtracting the PodpisZP itself (general XPath Filter 2.0).
func TestAttackUnsignedPodpisZP(t *testing.T) {
	p := testpki.New()
	genuine := signedEnveloped(t)
	id := sigIDs(t, genuine)[0]
	evilPESEL := "02070803628"
	evil := `<ppZP:PodpisZP xmlns:ppZP="` + xades.NSPPZP + `" xmlns:os="` + xades.NSOsoba +
		`"><ppZP:DaneZP><ppZP:DaneZPOsobyFizycznej><os:Nazwisko>NOWAK</os:Nazwisko><os:Imie>PIOTR</os:Imie><os:PESEL>` + evilPESEL +
		`</os:PESEL></ppZP:DaneZPOsobyFizycznej></ppZP:DaneZP></ppZP:PodpisZP>`
	filter2 := func(xpath string) string {
		return `<ds:Transforms><ds:Transform Algorithm="` + xades.TransformFilter2 + `"><dsig-xpath:XPath xmlns:dsig-xpath="` +
			xades.NSFilter2 + `" xmlns:ppZP="` + xades.NSPPZP + `" Filter="subtract">` + xpath + `</dsig-xpath:XPath></ds:Transform>` +
			`<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>`
	}
	variants := []struct {
		name       string
		transforms string
		without    [][2]string // what the transforms leave out at signing time
		attacks    map[string]func(t *testing.T, doc string) string
	}{
		{"subtract /descendant::ds:Signature", filter2("/descendant::ds:Signature"), nil, map[string]func(t *testing.T, doc string) string{
			"ds:Signature holding a PodpisZP at the start of ClaimedRole": func(t *testing.T, doc string) string {
				return replaceOne(t, doc, "<xades:ClaimedRole>", `<xades:ClaimedRole><ds:Signature xmlns:ds="`+xades.NSDSig+`">`+evil+`</ds:Signature>`)
			},
		}},
		{"subtract //ppZP:PodpisZP", filter2("//ppZP:PodpisZP"), [][2]string{{xades.NSPPZP, "PodpisZP"}}, map[string]func(t *testing.T, doc string) string{
			"PodpisZP replaced": func(t *testing.T, doc string) string {
				return replaceOne(t, doc, between(t, doc, "<ppZP:PodpisZP", "</ppZP:PodpisZP>"), evil)
			},
		}},
	}
	ran := 0
	for _, variant := range variants {
		t.Run(variant.name, func(t *testing.T) {
			doc := replaceOne(t, genuine, `URI="#`+id+`-signedprops"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>`,
				`URI="#`+id+`-signedprops">`+variant.transforms)
			doc = setDigest(t, doc, id, 1, signedPropertiesDigest(t, doc, id, variant.without...))
			doc = resign(t, doc, id, p.RSA.Key)
			if s := genuineReport(t, verify.XML("a.xml", []byte(doc), trusting(), verify.XMLOptions{}), id); s.Indication != verify.TotalPassed {
				t.Logf("this verifier does not accept the signed form (%s %q): nothing to attack", s.Indication, s.Reasons)
				return
			}
			ran++
			for name, attack := range variant.attacks {
				t.Run(name, func(t *testing.T) {
					attacked := attack(t, doc)
					s := genuineReport(t, verify.XML("attack.xml", []byte(attacked), trusting(), verify.XMLOptions{}), id)
					if s.TrustedProfile != nil && s.TrustedProfile.PESEL != testProfile.PESEL {
						t.Errorf("%s with the unsigned trusted profile %+v", s.Indication, s.TrustedProfile)
					}
				})
			}
		})
	}
	if ran == 0 {
		// a verifier that takes SignedProperties as covered only when a reference verifies all of them leaves
		// nothing to hide a PodpisZP in: the attack cannot be mounted
		t.Log("no SignedProperties reference leaving part of them out is accepted here")
	}
	t.Run("in UnsignedProperties", func(t *testing.T) {
		evil := `<ds:Signature xmlns:ds="` + xades.NSDSig + `">` + evil + `</ds:Signature>`
		nosig := signWith(t, attackDoc, p.RSA, xades.SignOptions{})
		unsigned := `<xades:UnsignedProperties><xades:UnsignedSignatureProperties><xades:SignerRole><xades:ClaimedRoles><xades:ClaimedRole>` +
			evil + `</xades:ClaimedRole></xades:ClaimedRoles></xades:SignerRole></xades:UnsignedSignatureProperties></xades:UnsignedProperties>`
		attacked := replaceOne(t, nosig, `</xades:QualifyingProperties>`, unsigned+`</xades:QualifyingProperties>`)
		rep := verify.XML("attack.xml", []byte(attacked), trusting(), verify.XMLOptions{})
		if s := rep.Signatures[0]; s.TrustedProfile != nil {
			t.Errorf("trusted profile %+v read from unsigned properties", s.TrustedProfile)
		}
	})
}
