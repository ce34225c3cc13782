package xades

import "context"

// SignIgnoringKeyUsage signs as another tool would, with a certificate Sign refuses (for verifier tests).
func SignIgnoringKeyUsage(data []byte, opts SignOptions) ([]byte, error) {
	return sign(context.Background(), data, opts)
}
