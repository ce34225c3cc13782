package profile

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/trustsign/trustsign/store"
)

// IdP assertions: how a bank or another identity provider vouches for an applicant.
//
// An assertion is a compact JWS (RFC 7515): BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(signature),
// no padding. The header is {"alg": "ES256" | "RS256" | "EdDSA", "kid": "<key id configured in Options.IdPKeys>",
// "typ": "trustsign-idp+jwt"}. The payload:
//
//	{
//	  "iss": "https://bank.example/pz",       // must equal the configured IdPKey.Issuer
//	  "aud": "trustsign",                     // Options.IdPAudience
//	  "jti": "a1b2...",                       // the IdP's id for this assertion (recorded)
//	  "iat": 1767258000, "exp": 1767258300,   // Unix seconds; at most 10 minutes apart, exp in the future
//	  "applicationNumber": "PZ-....-....-....",
//	  "pesel": "44051401359", "firstName": "JAN", "secondName": "", "surname": "KOWALSKI"
//	}
//
// The signature is over the ASCII bytes of header "." payload: ES256 is ECDSA P-256 with SHA-256 as the 64-byte
// r||s of RFC 7518, RS256 is RSASSA-PKCS1-v1_5 with SHA-256 (keys of 2048 bits or more), EdDSA is Ed25519. The
// PESEL and names must match the application (names compared case-insensitively). The assertion can be used once:
// it names one application, which it activates.

// IdPAssertion is the payload of an assertion.
type IdPAssertion struct {
	Issuer            string `json:"iss"`
	Audience          string `json:"aud"`
	ID                string `json:"jti"`
	IssuedAt          int64  `json:"iat"`
	ExpiresAt         int64  `json:"exp"`
	ApplicationNumber string `json:"applicationNumber"`
	PESEL             string `json:"pesel"`
	FirstName         string `json:"firstName"`
	SecondName        string `json:"secondName,omitempty"`
	Surname           string `json:"surname"`
}

type jwsHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

const idpType = "trustsign-idp+jwt"

var b64url = base64.RawURLEncoding

func jwsAlg(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return "", errors.New("only P-256 ECDSA keys (ES256)")
		}
		return "ES256", nil
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return "", errors.New("RSA keys need 2048 bits or more")
		}
		return "RS256", nil
	case ed25519.PublicKey:
		return "EdDSA", nil
	}
	return "", fmt.Errorf("unsupported key type %T", pub)
}

// SignIdPAssertion makes an assertion (for identity providers' integration tests and simulators).
func SignIdPAssertion(key crypto.Signer, kid string, a IdPAssertion) (string, error) {
	alg, err := jwsAlg(key.Public())
	if err != nil {
		return "", err
	}
	h, _ := json.Marshal(jwsHeader{Alg: alg, Kid: kid, Typ: idpType})
	p, err := json.Marshal(a)
	if err != nil {
		return "", err
	}
	input := b64url.EncodeToString(h) + "." + b64url.EncodeToString(p)
	var sig []byte
	switch alg {
	case "EdDSA":
		sig, err = key.Sign(rand.Reader, []byte(input), crypto.Hash(0))
	default:
		d := sha256.Sum256([]byte(input))
		sig, err = key.Sign(rand.Reader, d[:], crypto.SHA256)
		if err == nil && alg == "ES256" {
			sig, err = ecdsaASN1ToRaw(sig)
		}
	}
	if err != nil {
		return "", err
	}
	return input + "." + b64url.EncodeToString(sig), nil
}

func ecdsaASN1ToRaw(der []byte) ([]byte, error) {
	var v struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &v); err != nil {
		return nil, err
	}
	out := make([]byte, 64)
	v.R.FillBytes(out[:32])
	v.S.FillBytes(out[32:])
	return out, nil
}

// verifyIdPAssertion checks the signature, header and times and returns the payload.
func (s *Service) verifyIdPAssertion(token string, now time.Time) (IdPAssertion, error) {
	var a IdPAssertion
	fail := func(why string) (IdPAssertion, error) { return IdPAssertion{}, fmt.Errorf("%w: %s", ErrAssertion, why) }
	if len(token) > 16<<10 {
		return fail("assertion too large")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return fail("not a compact JWS")
	}
	hb, err1 := b64url.DecodeString(parts[0])
	pb, err2 := b64url.DecodeString(parts[1])
	sig, err3 := b64url.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return fail("bad base64url")
	}
	var h jwsHeader
	if err := strictJSON(hb, &h); err != nil {
		return fail("bad header")
	}
	if h.Typ != idpType {
		return fail("wrong typ")
	}
	k, ok := s.o.IdPKeys[h.Kid]
	if !ok {
		return fail("unknown key id")
	}
	alg, err := jwsAlg(k.Key)
	if err != nil || alg != h.Alg {
		return fail("algorithm does not match the configured key")
	}
	input := []byte(parts[0] + "." + parts[1])
	d := sha256.Sum256(input)
	valid := false
	switch key := k.Key.(type) {
	case *ecdsa.PublicKey:
		if len(sig) == 64 {
			valid = ecdsa.Verify(key, d[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
		}
	case *rsa.PublicKey:
		valid = rsa.VerifyPKCS1v15(key, crypto.SHA256, d[:], sig) == nil
	case ed25519.PublicKey:
		valid = ed25519.Verify(key, input, sig)
	}
	if !valid {
		return fail("signature does not verify")
	}
	if err := strictJSON(pb, &a); err != nil {
		return fail("bad payload")
	}
	switch {
	case a.Issuer != k.Issuer:
		return fail("issuer does not match the key")
	case a.Audience != s.o.IdPAudience:
		return fail("wrong audience")
	case a.ID == "" || len(a.ID) > 128:
		return fail("missing jti")
	case a.ExpiresAt <= now.Unix():
		return fail("expired")
	case a.IssuedAt > now.Add(time.Minute).Unix():
		return fail("issued in the future")
	case a.ExpiresAt-a.IssuedAt > 600 || a.ExpiresAt < a.IssuedAt:
		return fail("lifetime longer than 10 minutes")
	}
	return a, nil
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

func sameName(a, b string) bool {
	return strings.EqualFold(strings.Join(strings.Fields(a), " "), strings.Join(strings.Fields(b), " "))
}

// ConfirmWithIdP confirms the application named in a signed identity-provider assertion (format above). The
// profile is valid for 3 years. ErrAssertion when the assertion is not accepted or does not match the application.
func (s *Service) ConfirmWithIdP(ctx context.Context, assertion string) (Profile, error) {
	a, err := s.verifyIdPAssertion(assertion, s.now())
	if err != nil {
		return Profile{}, err
	}
	return s.confirm(ctx, a.ApplicationNumber, false, func(tx *store.Tx, p store.Profile, now time.Time) (store.Confirmation, error) {
		if a.PESEL != p.PESEL || !sameName(a.FirstName, p.FirstName) || !sameName(a.Surname, p.Surname) ||
			(a.SecondName != "" && !sameName(a.SecondName, p.SecondName)) {
			return store.Confirmation{}, fmt.Errorf("%w: identity does not match the application", ErrAssertion)
		}
		return store.Confirmation{Method: string(IdentityProvider), By: "idp:" + a.Issuer,
			Details: map[string]string{"issuer": a.Issuer, "assertionId": a.ID}}, nil
	})
}
