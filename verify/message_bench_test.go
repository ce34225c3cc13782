package verify

import (
	"strings"
	"testing"
)

func BenchmarkFromLibraryNested(b *testing.B) {
	s := strings.Repeat("digest of ", 100) + "x" + strings.Repeat(" does not match", 64)
	s = s[:1961]
	for b.Loop() {
		fromLibrary(s)
	}
}
