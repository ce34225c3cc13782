package pdf

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestCryptRules: which data of an encrypted document is encrypted, and with which crypt filter.
func TestCryptRules(t *testing.T) {
	h := &securityHandler{
		key:             bytes.Repeat([]byte{7}, 16),
		cf:              map[Name]cryptMethod{"StdCF": cryptAESV2, "RC": cryptRC4, "Off": cryptNone},
		stmF:            cryptAESV2,
		strF:            cryptAESV2,
		eff:             cryptRC4,
		encryptMetadata: false,
		encRef:          Ref{Num: 9},
		encIndirect:     true,
	}
	streams := []struct {
		name string
		dict Dict
		want cryptMethod
	}{
		{"plain stream uses /StmF", Dict{}, cryptAESV2},
		{"cross-reference stream is never encrypted", Dict{"Type": Name("XRef")}, cryptNone},
		{"metadata with /EncryptMetadata false", Dict{"Type": Name("Metadata"), "Subtype": Name("XML")}, cryptNone},
		{"embedded file uses /EFF", Dict{"Type": Name("EmbeddedFile")}, cryptRC4},
		{"/Crypt filter without a name is Identity", Dict{"Filter": Name("Crypt")}, cryptNone},
		{"/Crypt filter named", Dict{"Filter": Array{Name("Crypt"), Name("FlateDecode")}, "DecodeParms": Array{Dict{"Name": Name("RC")}, nil}}, cryptRC4},
		{"/Crypt filter /Identity", Dict{"Filter": Name("Crypt"), "DecodeParms": Dict{"Name": Name("Identity")}}, cryptNone},
		{"crypt filter with /CFM /None", Dict{"Filter": Name("Crypt"), "DecodeParms": Dict{"Name": Name("Off")}}, cryptNone},
	}
	for _, tc := range streams {
		t.Run(tc.name, func(t *testing.T) {
			got, err := h.streamMethod(tc.dict)
			if err != nil || got != tc.want {
				t.Errorf("method %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	if _, err := h.streamMethod(Dict{"Filter": Name("Crypt"), "DecodeParms": Dict{"Name": Name("Nope")}}); !errors.Is(err, ErrUnsupportedEncryption) {
		t.Errorf("undefined crypt filter: %v", err)
	}

	ref := Ref{Num: 12}
	enc := func(s string) String {
		b, err := h.encrypt(ref, cryptAESV2, []byte(s), bytes.NewReader(bytes.Repeat([]byte{1}, 16)))
		if err != nil {
			t.Fatal(err)
		}
		return String{Value: b}
	}
	sigContents := String{Value: []byte{0x30, 0x80}, Hex: true}
	sig := Dict{"Type": Name("Sig"), "Contents": sigContents, "Name": enc("ANNA")}
	o, err := h.cryptObject(ref, sig, func(b []byte) ([]byte, error) { return h.decrypt(ref, h.strF, b) })
	if err != nil {
		t.Fatal(err)
	}
	d := o.(Dict)
	if !bytes.Equal(d["Contents"].(String).Value, sigContents.Value) || Text(d["Name"]) != "ANNA" {
		t.Errorf("signature dictionary decrypted to %v", d)
	}
	// Without /Type, /Contents with /ByteRange still marks a signature dictionary; nested ones too.
	field := Dict{"V": Dict{"ByteRange": Array{}, "Contents": sigContents}, "T": enc("Podpis")}
	o, err = h.cryptObject(ref, field, func(b []byte) ([]byte, error) { return h.decrypt(ref, h.strF, b) })
	if err != nil {
		t.Fatal(err)
	}
	if v := o.(Dict)["V"].(Dict); !bytes.Equal(v["Contents"].(String).Value, sigContents.Value) || Text(o.(Dict)["T"]) != "Podpis" {
		t.Errorf("field decrypted to %v", o)
	}
	// An annotation's /Contents is an ordinary string.
	annot := Dict{"Type": Name("Annot"), "Contents": enc("note")}
	o, _ = h.cryptObject(ref, annot, func(b []byte) ([]byte, error) { return h.decrypt(ref, h.strF, b) })
	if Text(o.(Dict)["Contents"]) != "note" {
		t.Errorf("annotation /Contents %v", o)
	}
	// The /Encrypt dictionary's strings are not encrypted.
	encDict := Dict{"O": String{Value: []byte("owner")}}
	o, _ = h.cryptObject(Ref{Num: 9}, encDict, func([]byte) ([]byte, error) { return nil, errors.New("called") })
	if Text(o.(Dict)["O"]) != "owner" {
		t.Errorf("/Encrypt decrypted: %v", o)
	}
}

// TestDecryptHostile: bad ciphertext and bad /Encrypt dictionaries give errors, never panics.
func TestDecryptHostile(t *testing.T) {
	h := &securityHandler{key: bytes.Repeat([]byte{3}, 32)}
	for _, n := range []int{1, 15, 17, 31, 33, 47} {
		if _, err := h.decrypt(Ref{Num: 1}, cryptAESV3, make([]byte, n)); !errors.Is(err, ErrMalformed) {
			t.Errorf("AES data of %d bytes: %v", n, err)
		}
	}
	// A whole number of blocks whose padding is wrong.
	if _, err := h.decrypt(Ref{Num: 1}, cryptAESV3, make([]byte, 48)); !errors.Is(err, ErrMalformed) {
		t.Errorf("bad padding: %v", err)
	}
	good := func() Dict {
		return Dict{"Filter": Name("Standard"), "V": Integer(2), "R": Integer(3), "Length": Integer(128),
			"O": String{Value: make([]byte, 32)}, "U": String{Value: make([]byte, 32)}, "P": Integer(-4)}
	}
	tests := []struct {
		name string
		edit func(d Dict)
		want error
	}{
		{"public-key handler", func(d Dict) { d["Filter"] = Name("Adobe.PubSec"); d["Recipients"] = Array{} }, ErrUnsupportedEncryption},
		{"unknown handler", func(d Dict) { d["Filter"] = Name("FooSec") }, ErrUnsupportedEncryption},
		{"V 3", func(d Dict) { d["V"] = Integer(3) }, ErrUnsupportedEncryption},
		{"V missing", func(d Dict) { delete(d, "V") }, ErrUnsupportedEncryption},
		{"R 7", func(d Dict) { d["R"] = Integer(7) }, ErrUnsupportedEncryption},
		{"R huge", func(d Dict) { d["R"] = Integer(1 << 62) }, ErrUnsupportedEncryption},
		{"R missing", func(d Dict) { delete(d, "R") }, ErrUnsupportedEncryption},
		{"V5 with R3", func(d Dict) { d["V"] = Integer(5) }, ErrUnsupportedEncryption},
		{"key length 4096", func(d Dict) { d["Length"] = Integer(4096) }, ErrUnsupportedEncryption},
		{"key length 0", func(d Dict) { d["Length"] = Integer(0) }, ErrUnsupportedEncryption},
		{"key length negative", func(d Dict) { d["Length"] = Integer(-128) }, ErrUnsupportedEncryption},
		{"key length not bytes", func(d Dict) { d["Length"] = Integer(44) }, ErrUnsupportedEncryption},
		{"O short", func(d Dict) { d["O"] = String{Value: make([]byte, 5)} }, ErrUnsupportedEncryption},
		{"U missing", func(d Dict) { delete(d, "U") }, ErrUnsupportedEncryption},
		{"P missing", func(d Dict) { delete(d, "P") }, ErrUnsupportedEncryption},
		{"wrong U: a user password", func(d Dict) {}, ErrUserPassword},
		{"V4 unknown method", func(d Dict) {
			d["V"], d["R"] = Integer(4), Integer(4)
			d["CF"] = Dict{"StdCF": Dict{"CFM": Name("ROT13")}}
			d["StmF"], d["StrF"] = Name("StdCF"), Name("StdCF")
		}, ErrUnsupportedEncryption},
		{"V4 undefined StmF", func(d Dict) { d["V"], d["R"] = Integer(4), Integer(4); d["StmF"] = Name("StdCF") }, ErrUnsupportedEncryption},
		{"V4 with AESV3", func(d Dict) {
			d["V"], d["R"] = Integer(4), Integer(4)
			d["CF"] = Dict{"StdCF": Dict{"CFM": Name("AESV3")}}
		}, ErrUnsupportedEncryption},
		{"V4 crypt filter key length 1000", func(d Dict) {
			d["V"], d["R"] = Integer(4), Integer(4)
			delete(d, "Length")
			d["CF"] = Dict{"StdCF": Dict{"CFM": Name("V2"), "Length": Integer(1000)}}
		}, ErrUnsupportedEncryption},
		{"V5 U short", func(d Dict) { d["V"], d["R"] = Integer(5), Integer(6) }, ErrUnsupportedEncryption},
		{"V5 UE missing", func(d Dict) {
			d["V"], d["R"] = Integer(5), Integer(6)
			d["U"] = String{Value: make([]byte, 48)}
		}, ErrUnsupportedEncryption},
		{"V5 wrong U", func(d Dict) {
			d["V"], d["R"] = Integer(5), Integer(6)
			d["U"], d["UE"] = String{Value: make([]byte, 48)}, String{Value: make([]byte, 32)}
		}, ErrUserPassword},
		{"V5 with V2 filter", func(d Dict) {
			d["V"], d["R"] = Integer(5), Integer(6)
			d["CF"] = Dict{"StdCF": Dict{"CFM": Name("V2")}}
		}, ErrUnsupportedEncryption},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := good()
			tc.edit(d)
			err := (&securityHandler{}).init(d, []byte("id"))
			if !errors.Is(err, tc.want) {
				t.Errorf("init: %v, want %v", err, tc.want)
			}
		})
	}
}

// TestEncryptionAcrossRevisions: a revision that changes /Encrypt, or encrypts a document whose first revision is
// not encrypted, is refused rather than decrypted with the wrong key.
func TestEncryptionAcrossRevisions(t *testing.T) {
	base := "%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
	x1 := len(base)
	f := base + "xref\n0 2\n0000000000 65535 f \n0000000009 00000 n \ntrailer\n<< /Size 2 /Root 1 0 R >>\nstartxref\n" + itoa(x1) + "\n%%EOF\n"
	x2 := len(f)
	f += "xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 2 /Root 1 0 R /Prev " + itoa(x1) +
		" /Encrypt << /Filter /Standard /V 1 /R 2 /O <00> /U <00> /P -4 >> >>\nstartxref\n" + itoa(x2) + "\n%%EOF\n"
	r, err := Open(strings.NewReader(f), int64(len(f)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Encrypted() || !errors.Is(r.DecryptErr(), ErrUnsupportedEncryption) {
		t.Errorf("Encrypted %v, DecryptErr %v", r.Encrypted(), r.DecryptErr())
	}
}

func itoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}

// TestEncryptedZeros: the tail of a /Contents placeholder that a signer encrypted before writing the CMS over its
// start is recognised as encrypted zeros, and anything else in it (hidden data) is not.
func TestEncryptedZeros(t *testing.T) {
	ref := Ref{Num: 15}
	for _, m := range []cryptMethod{cryptRC4, cryptAESV2, cryptAESV3} {
		keyLen := 16
		if m == cryptAESV3 {
			keyLen = 32
		}
		r := &Reader{enc: &securityHandler{key: bytes.Repeat([]byte{5}, keyLen), strF: m}}
		enc, err := r.enc.encrypt(ref, m, make([]byte, 4096), bytes.NewReader(bytes.Repeat([]byte{9}, 16)))
		if err != nil {
			t.Fatal(err)
		}
		cmsLen := 1001
		s := bytes.Clone(enc)
		copy(s, bytes.Repeat([]byte{0x30}, cmsLen))
		if !r.EncryptedZeros(ref, s, cmsLen) {
			t.Errorf("method %d: encrypted placeholder not recognised", m)
		}
		if m != cryptAESV3 && r.EncryptedZeros(Ref{Num: 16}, s, cmsLen) { // AES-256 has no per-object keys
			t.Errorf("method %d: recognised under another object's key", m)
		}
		hidden := bytes.Clone(s)
		hidden[3000] ^= 0x40
		if r.EncryptedZeros(ref, hidden, cmsLen) {
			t.Errorf("method %d: changed tail accepted", m)
		}
		if (m != cryptRC4 && r.EncryptedZeros(ref, s[:len(s)-7], cmsLen)) || r.EncryptedZeros(ref, s, len(s)) || r.EncryptedZeros(ref, s, -1) {
			t.Errorf("method %d: bad bounds accepted", m)
		}
		plain := &Reader{}
		if plain.EncryptedZeros(ref, s, cmsLen) {
			t.Error("unencrypted reader accepted")
		}
	}
}

// TestCryptFilterKeyLength: with several crypt filters the file key length does not depend on map order: AES-128
// needs 16 bytes whatever a /V2 filter says.
func TestCryptFilterKeyLength(t *testing.T) {
	d := Dict{"CF": Dict{"A": Dict{"CFM": Name("V2"), "Length": Integer(5)}, "B": Dict{"CFM": Name("AESV2")}, "C": Dict{"CFM": Name("V2"), "Length": Integer(40)}},
		"StmF": Name("B"), "StrF": Name("A")}
	for i := 0; i < 50; i++ {
		h := &securityHandler{}
		keyLen := 16
		if err := h.cryptFilters(d, 4, &keyLen); err != nil || keyLen != 16 || h.stmF != cryptAESV2 || h.strF != cryptRC4 {
			t.Fatalf("key length %d, stmF %d, strF %d, %v", keyLen, h.stmF, h.strF, err)
		}
	}
	delete(d["CF"].(Dict), "B")
	d["StmF"] = Name("C")
	h := &securityHandler{}
	keyLen := 16
	if err := h.cryptFilters(d, 4, &keyLen); err != nil || keyLen != 5 {
		t.Errorf("RC4 only: key length %d, %v", keyLen, err)
	}
}
