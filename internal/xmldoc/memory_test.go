package xmldoc

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// A 9.9 MB document of "<b/>x" repeated (2.5 bytes a node) parsed into a tree of about 75 times its size: six of
// them at once took a server from 136 MB to 10.4 GB. The tree's memory is now bounded by a multiple of the input
// (MaxTreeFactor): denser documents are refused as soon as they pass it, and the densest accepted shapes allocate
// at most that multiple.
func TestAttackMemoryAmplification(t *testing.T) {
	const size = 2 << 20
	fill := func(unit string) string {
		return "<r>" + strings.Repeat(unit, (size-7)/len(unit)) + "</r>"
	}
	var attrs, nss strings.Builder
	attrs.WriteString("<e")
	nss.WriteString("<e")
	for i := range 250 {
		fmt.Fprintf(&attrs, ` a%d=""`, i)
		fmt.Fprintf(&nss, ` xmlns:n%d="u"`, i)
	}
	attrs.WriteString("/>")
	nss.WriteString("/>")
	cases := []struct {
		name   string
		doc    string
		refuse bool
	}{
		{"empty element and text repeated", fill("<b/>x"), true},
		{"one-letter elements with one-character text on lines", fill("<a>1</a>\n"), true},
		{"nested elements with text, at the bound", fill(strings.Repeat("<d>t", 200) + strings.Repeat("</d>", 200)), false},
		{"comments and processing instructions", fill("<!---->x<?p?>"), false},
		{"empty elements, the densest plain markup", fill("<a/>"), false},
		{"short elements on indented lines", fill("  <ab>1</ab>\n"), false},
		{"250 attributes per element", fill(attrs.String()), false},
		{"250 namespace declarations per element", fill(nss.String()), false},
		{"an Id per element", fill(`<a Id="x"/>`), false},
		{"escaped text", fill("<a>&#x10000;&lt;</a>"), false},
	}
	limit := int64(DefaultLimits.MaxTreeFactor)*size + TreeAllowance
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			doc, err := ParseString(tc.doc, Limits{})
			runtime.ReadMemStats(&after)
			allocated := int64(after.TotalAlloc - before.TotalAlloc)
			t.Logf("%d bytes: %d bytes allocated (%.1f per input byte), error %v", len(tc.doc), allocated,
				float64(allocated)/float64(len(tc.doc)), err)
			switch {
			case tc.refuse && !errors.Is(err, ErrTooDense):
				t.Errorf("error %v, want %v", err, ErrTooDense)
			case !tc.refuse && err != nil:
				t.Errorf("refused: %v", err)
			}
			// the parser's own scratch (attribute lists, chunk headers) comes on top of the tree it keeps
			if allocated > limit+limit/8 {
				t.Errorf("%d bytes allocated, more than the tree's bound of %d", allocated, limit)
			}
			runtime.KeepAlive(doc)
		})
	}
	if NodeSize > 168 {
		t.Errorf("a node takes %d bytes, was 168 after shrinking", NodeSize)
	}
}
