package cms

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
)

// stamper returns a SignOptions.TimeStamp callback that makes tokens with the test TSA.
func stamper(t testing.TB, tsa testpki.Identity) func(context.Context, []byte) ([]byte, error) {
	return func(_ context.Context, imprint []byte) ([]byte, error) {
		h := map[int]crypto.Hash{32: crypto.SHA256, 48: crypto.SHA384, 64: crypto.SHA512}[len(imprint)]
		return makeToken(t, token{tsa: tsa, hash: h, imprint: imprint}), nil
	}
}

func TestSignatureTimeStamp(t *testing.T) {
	tsa := testTSA(t)
	p := testpki.New()
	for _, tc := range []struct {
		name string
		id   testpki.Identity
		hash crypto.Hash
	}{{"RSA-SHA256", p.RSA, crypto.SHA256}, {"EC384-SHA384", p.EC384, crypto.SHA384}} {
		t.Run(tc.name, func(t *testing.T) {
			der, err := SignDetachedContext(context.Background(), digest(tc.hash, content), SignOptions{Hash: tc.hash, Signer: tc.id.Key,
				Certificate: tc.id.Cert, Chain: tc.id.Chain, PAdES: true, TimeStamp: stamper(t, tsa)})
			if err != nil {
				t.Fatalf("SignDetachedContext: %v", err)
			}
			res := mustVerify(t, mustParse(t, der), content)
			if p := res.Problems(); p != nil {
				t.Fatalf("Problems: %v", p)
			}
			if len(res.TimeStamps) != 1 {
				t.Fatalf("%d time-stamps", len(res.TimeStamps))
			}
			st := res.TimeStamps[0]
			if st.Err != nil || st.Signer == nil || !st.Signer.Equal(tsa.Cert) || st.Time.IsZero() {
				t.Fatalf("time-stamp = %+v", st)
			}
		})
	}
}

func TestSignatureTimeStampNone(t *testing.T) {
	res := mustVerify(t, mustParse(t, sign(t, testpki.New().RSA, crypto.SHA256)), content)
	if res.TimeStamps != nil {
		t.Fatalf("TimeStamps = %+v", res.TimeStamps)
	}
}

// TestAttackSignatureTimeStamp: a TSA (or a man in the middle) handing back a token over other data, or a token
// moved from another signature, is refused when signing and reported invalid when verifying.
func TestAttackSignatureTimeStamp(t *testing.T) {
	tsa := testTSA(t)
	id := testpki.New().RSA
	other := digest(crypto.SHA256, []byte("another signature value"))
	wrong := func(context.Context, []byte) ([]byte, error) {
		return makeToken(t, token{tsa: tsa, imprint: other}), nil
	}
	opts := SignOptions{Signer: id.Key, Certificate: id.Cert, PAdES: true}
	t.Run("SignRefusesWrongImprint", func(t *testing.T) {
		o := opts
		o.TimeStamp = wrong
		if _, err := SignDetached(digest(crypto.SHA256, content), o); !errors.Is(err, ErrTimeStampImprint) {
			t.Fatalf("SignDetached = %v, want ErrTimeStampImprint", err)
		}
	})
	t.Run("SignFailsOnTSAError", func(t *testing.T) {
		o := opts
		outage := errors.New("TSA unavailable")
		o.TimeStamp = func(context.Context, []byte) ([]byte, error) { return nil, outage }
		if _, err := SignDetached(digest(crypto.SHA256, content), o); !errors.Is(err, outage) {
			t.Fatalf("SignDetached = %v, want the TSA's error", err)
		}
	})
	t.Run("TransplantedToken", func(t *testing.T) {
		// Build a SignerInfo carrying a token over another signature value.
		o := opts
		o.TimeStamp = stamper(t, tsa)
		der, err := SignDetached(digest(crypto.SHA256, content), o)
		if err != nil {
			t.Fatal(err)
		}
		sd := mustParse(t, der)
		good := sd.SignerInfo.UnsignedAttributes[0].Values[0]
		bad := makeToken(t, token{tsa: tsa, imprint: other})
		for i := 0; len(bad) != len(good) && i < 100; i++ { // ECDSA signature sizes vary by a byte or two
			bad = makeToken(t, token{tsa: tsa, imprint: other})
		}
		forgedDER := replaceOnce(t, der, good, bad)
		res := mustVerify(t, mustParse(t, forgedDER), content)
		if len(res.TimeStamps) != 1 || !errors.Is(res.TimeStamps[0].Err, ErrTimeStampImprint) {
			t.Fatalf("TimeStamps = %+v, want ErrTimeStampImprint", res.TimeStamps)
		}
		if res.Problems() != nil {
			t.Fatalf("the signature itself is intact: %v", res.Problems())
		}
	})
}

func replaceOnce(t *testing.T, in, old, repl []byte) []byte {
	t.Helper()
	if len(old) != len(repl) || bytes.Count(in, old) != 1 {
		t.Fatal("cannot replace in place")
	}
	return bytes.Replace(in, old, repl, 1)
}
