//go:build cgo

package main

import (
	"crypto"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/ThalesGroup/crypto11"

	"github.com/trustsign/trustsign/signer"
)

// tokenSession is a crypto11 context on the token a URI names, for the admin seal commands (serve and sign use
// signer.PKCS11Key instead, which also signs with a key whose public half is not in the token).
type tokenSession struct {
	ctx *crypto11.Context
	uri *signer.PKCS11URI
}

func openToken(uri *signer.PKCS11URI) (*tokenSession, error) {
	pin := ""
	if uri.PINFile != "" {
		var err error
		if pin, err = signer.ReadPINFile(uri.PINFile); err != nil {
			return nil, err
		}
	}
	cfg := &crypto11.Config{Path: uri.ModulePath, Pin: pin, MaxSessions: 2, LoginNotSupported: pin == ""}
	switch {
	case uri.Token != "":
		cfg.TokenLabel = uri.Token
	case uri.Serial != "":
		cfg.TokenSerial = uri.Serial
	case uri.SlotID != nil:
		slot := int(*uri.SlotID)
		cfg.SlotNumber = &slot
	default:
		return nil, usageErr("the URI must name the token (token=, serial= or slot-id=)")
	}
	ctx, err := crypto11.Configure(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", signer.ErrTokenUnavailable, err)
	}
	return &tokenSession{ctx: ctx, uri: uri}, nil
}

func (t *tokenSession) Close() error { return t.ctx.Close() }

func (t *tokenSession) label() []byte {
	if t.uri.Object == "" {
		return nil
	}
	return []byte(t.uri.Object)
}

// generate makes a key pair labelled by the URI's object, with its id (or a new random one, returned). A key
// already there under that label or id is refused.
func (t *tokenSession) generate(rsaBits int, curve elliptic.Curve) (crypto.Signer, []byte, error) {
	if t.uri.Object == "" {
		return nil, nil, usageErr("keygen needs object=LABEL in the URI")
	}
	id := t.uri.ID
	for _, probe := range [][2][]byte{{nil, t.label()}, {id, nil}} {
		if probe[0] == nil && probe[1] == nil {
			continue
		}
		if keys, err := t.ctx.FindKeyPairs(probe[0], probe[1]); err != nil {
			return nil, nil, fmt.Errorf("%w: %v", signer.ErrTokenUnavailable, err)
		} else if len(keys) > 0 {
			return nil, nil, failErr(exitCantCreate, fmt.Errorf("the token already holds a key %s: keygen never replaces a key", t.uri.String()))
		}
	}
	if len(id) == 0 {
		id = make([]byte, 8)
		if _, err := rand.Read(id); err != nil {
			return nil, nil, err
		}
	}
	var (
		key crypto.Signer
		err error
	)
	if rsaBits > 0 {
		key, err = t.ctx.GenerateRSAKeyPairWithLabel(id, t.label(), rsaBits)
	} else {
		key, err = t.ctx.GenerateECDSAKeyPairWithLabel(id, t.label(), curve)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("generating the key in the token: %w", err)
	}
	return key, id, nil
}

// keyPair finds the URI's key pair (the token must hold its public half, as keygen makes it).
func (t *tokenSession) keyPair() (crypto.Signer, error) {
	key, err := t.ctx.FindKeyPair(t.uri.ID, t.label())
	if err != nil || key == nil {
		return nil, fmt.Errorf("%w: no key pair %s in the token (a key imported without its public half cannot be used here: %v)",
			signer.ErrTokenUnavailable, t.uri.String(), err)
	}
	return key, nil
}

// importCertificate stores cert in the token next to key, with the key's id and label.
func (t *tokenSession) importCertificate(key crypto.Signer, cert *x509.Certificate) error {
	a, err := t.ctx.GetAttribute(key, crypto11.CkaId)
	if err != nil || a == nil || len(a.Value) == 0 {
		return errors.New("the key has no CKA_ID to give its certificate")
	}
	label := t.label()
	if label == nil {
		label = []byte(cert.Subject.CommonName)
	}
	if old, err := t.ctx.FindCertificate(a.Value, nil, nil); err == nil && old != nil {
		if err := t.ctx.DeleteCertificate(a.Value, nil, nil); err != nil {
			return fmt.Errorf("replacing the token's certificate: %w", err)
		}
	}
	return t.ctx.ImportCertificateWithLabel(a.Value, label, cert)
}
