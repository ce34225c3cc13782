package revocation

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"time"
)

// Fetcher retrieves validation data over HTTP from the URLs the certificates name. The zero value is usable.
// (Skeleton: the implementation is being written.)
type Fetcher struct {
	// Client makes the requests (http.DefaultClient's transport when nil).
	Client *http.Client
	// Timeout bounds each request (default 10 s).
	Timeout time.Duration
	// MaxBytes bounds each answer (default 10 MiB).
	MaxBytes int64
	// Certificates help build chains (intermediates, roots); certificates named by AIA caIssuers are fetched
	// when a chain cannot be built from them.
	Certificates []*x509.Certificate
	// Now returns the current time (time.Now when nil); cached answers are used until their nextUpdate.
	Now func() time.Time
}

// ErrNotImplemented is returned by the skeleton.
var ErrNotImplemented = errors.New("revocation: not implemented yet")

// Collect is a Source: the chains of certs and the revocation data of each certificate in them below the root.
func (f *Fetcher) Collect(ctx context.Context, certs []*x509.Certificate) (Data, error) {
	return Data{}, ErrNotImplemented
}
