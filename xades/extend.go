package xades

import (
	"context"
	"crypto"
	"errors"

	"github.com/trustsign/trustsign/internal/xmldoc"
	"github.com/trustsign/trustsign/revocation"
)

// ExtendOptions says how Extend augments a signature.
type ExtendOptions struct {
	// Level is the level to reach: "b-t", "b-lt" or "b-lta" (ETSI EN 319 132-1). A signature already at or above
	// it gets what the level adds again (renewing an archive time-stamp is Extend with "b-lta").
	Level string
	// TimeStamp returns a DER RFC 3161 TimeStampToken over imprint (a digest with Hash), as SignOptions.TimeStamp.
	TimeStamp func(ctx context.Context, imprint []byte) ([]byte, error)
	// Hash is the digest for time-stamp imprints (SHA-256 when zero).
	Hash crypto.Hash
	// Validation returns the certificates and revocation data to embed for b-lt and b-lta.
	Validation revocation.Source
	// Limits bound parsing of the input document.
	Limits xmldoc.Limits
}

// Extend augments the signatures of doc to o.Level without breaking them. (Skeleton: being written.)
func Extend(ctx context.Context, doc []byte, o ExtendOptions) ([]byte, error) {
	return nil, errors.New("xades: extend: not implemented yet")
}
