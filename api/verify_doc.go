package api

import (
	"context"
	"mime/multipart"

	"github.com/trustsign/trustsign/verify"
)

type multipartFile = multipart.File

// verifyBytes validates an XML or PDF document through verify.File's one format decision.
func verifyBytes(ctx context.Context, name string, data []byte, p *verify.Policy, detached map[string][]byte) verify.FileReport {
	return verify.Bytes(ctx, name, data, p, verify.Options{Detached: detached})
}
