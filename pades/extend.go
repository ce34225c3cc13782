package pades

import (
	"context"
	"crypto"
	"errors"
	"io"

	"github.com/trustsign/trustsign/pdf"
	"github.com/trustsign/trustsign/revocation"
)

// ExtendOptions says how Extend augments the signatures of a PDF.
type ExtendOptions struct {
	// Level is the level to reach: "b-t", "b-lt" or "b-lta" (ETSI EN 319 142-1). b-t adds a document time-stamp
	// to a B-B signature; b-lt adds a DSS dictionary in an incremental update; b-lta adds the DSS and then a
	// document time-stamp (renewing the archive time-stamp is Extend with "b-lta" again).
	Level string
	// TimeStamp returns a DER RFC 3161 TimeStampToken over imprint (a digest with Hash), as SignOptions.TimeStamp.
	TimeStamp func(ctx context.Context, imprint []byte) ([]byte, error)
	// Hash is the digest for the document time-stamp (SHA-256 when zero).
	Hash crypto.Hash
	// Validation returns the certificates and revocation data to put in the DSS.
	Validation revocation.Source
	// Limits bound the reading of the input (nil: the pdf package's defaults).
	Limits *pdf.Limits
}

// Extend writes in and incremental updates that bring its signatures to o.Level to out. (Skeleton: being written.)
func Extend(ctx context.Context, in io.ReaderAt, size int64, out io.Writer, o ExtendOptions) error {
	return errors.New("pades: extend: not implemented yet")
}
