package xmldoc

import "strings"

// uriParts is a URI reference split as in RFC 3986 appendix B.
type uriParts struct {
	scheme, authority, path, query, fragment       string
	hasScheme, hasAuthority, hasQuery, hasFragment bool
}

func splitURI(s string) uriParts {
	var u uriParts
	if i := strings.IndexByte(s, '#'); i >= 0 {
		u.fragment, u.hasFragment, s = s[i+1:], true, s[:i]
	}
	if i := strings.IndexAny(s, ":/?"); i > 0 && s[i] == ':' && isScheme(s[:i]) {
		u.scheme, u.hasScheme, s = s[:i], true, s[i+1:]
	}
	if strings.HasPrefix(s, "//") {
		s = s[2:]
		i := strings.IndexAny(s, "/?")
		if i < 0 {
			i = len(s)
		}
		u.authority, u.hasAuthority, s = s[:i], true, s[i:]
	}
	if i := strings.IndexByte(s, '?'); i >= 0 {
		u.query, u.hasQuery, s = s[i+1:], true, s[:i]
	}
	u.path = s
	return u
}

func (u uriParts) String() string {
	var b strings.Builder
	if u.hasScheme {
		b.WriteString(u.scheme)
		b.WriteByte(':')
	}
	if u.hasAuthority {
		b.WriteString("//")
		b.WriteString(u.authority)
	}
	b.WriteString(u.path)
	if u.hasQuery {
		b.WriteByte('?')
		b.WriteString(u.query)
	}
	if u.hasFragment {
		b.WriteByte('#')
		b.WriteString(u.fragment)
	}
	return b.String()
}

// joinURIReferences is the join-URI-References function of Canonical XML 1.1 (section 2.4): RFC 3986 section 5.2
// reference resolution of ref against base, where base may itself be relative, a base path ending in ".." is read
// as ending in "../", and dot segments are removed as removeDotSegments does (keeping leading ".." of a relative
// path). It only rewrites strings: nothing is fetched.
func joinURIReferences(base, ref string) string {
	b, r := splitURI(base), splitURI(ref)
	if b.path == ".." || strings.HasSuffix(b.path, "/..") {
		b.path += "/"
	}
	var t uriParts
	// the reference's fragment is kept (RFC 3986 section 5.2.2), the base's never
	t.fragment, t.hasFragment = r.fragment, r.hasFragment
	switch {
	case r.hasScheme:
		t = r
		t.path = removeDotSegments(r.path)
	case r.hasAuthority:
		t = r
		t.scheme, t.hasScheme = b.scheme, b.hasScheme
		t.path = removeDotSegments(r.path)
	default:
		t.scheme, t.hasScheme = b.scheme, b.hasScheme
		t.authority, t.hasAuthority = b.authority, b.hasAuthority
		switch {
		case r.path == "":
			t.path = b.path
			if r.hasQuery {
				t.query, t.hasQuery = r.query, true
			} else {
				t.query, t.hasQuery = b.query, b.hasQuery
			}
			return t.String()
		case strings.HasPrefix(r.path, "/"):
			t.path = removeDotSegments(r.path)
		default:
			// RFC 3986 section 5.2.3, merge
			var merged string
			if b.hasAuthority && b.path == "" {
				merged = "/" + r.path
			} else if i := strings.LastIndexByte(b.path, '/'); i >= 0 {
				merged = b.path[:i+1] + r.path
			} else {
				merged = r.path
			}
			t.path = removeDotSegments(merged)
		}
		t.query, t.hasQuery = r.query, r.hasQuery
	}
	return t.String()
}

// removeDotSegments is RFC 3986's remove_dot_segments as Canonical XML 1.1 modifies it: runs of "/" collapse to
// one, "." segments go, ".." removes the segment before it, and a ".." with nothing (or only "..") before it is kept
// in a relative path (dropped at the root of an absolute one); a path ending in "." or ".." ends in "/".
func removeDotSegments(path string) string {
	if path == "" {
		return ""
	}
	abs := strings.HasPrefix(path, "/")
	segs := strings.Split(path, "/")
	var out []string
	trailing := false
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case "":
			trailing = last && i > 0
			continue
		case ".":
			trailing = last
			continue
		case "..":
			trailing = last
			if len(out) > 0 && out[len(out)-1] != ".." {
				out = out[:len(out)-1]
			} else if !abs {
				out = append(out, "..")
			}
			continue
		}
		trailing = false
		out = append(out, s)
	}
	var b strings.Builder
	if abs {
		b.WriteByte('/')
	}
	b.WriteString(strings.Join(out, "/"))
	if trailing && len(out) > 0 {
		b.WriteByte('/')
	}
	return b.String()
}

// isScheme reports whether s matches RFC 3986's scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		alpha := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !alpha && (i == 0 || !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.') {
			return false
		}
	}
	return s != ""
}

// absoluteURI reports whether s is an absolute URI in RFC 3986's grammar: scheme ":" hier-part ["?" query]
// ["#" fragment], as libxml2 (whose xmlsec1 verifies our signatures) reads one when it canonicalizes: an IP literal
// is whatever lies between the brackets, a port has at least one digit, a fragment may also hold brackets, and a
// byte outside the grammar (a space, a non-ASCII letter, a '%' without two hex digits after it) makes s no URI.
func absoluteURI(s string) bool {
	i := 0
	for i < len(s) && s[i] != ':' {
		i++
	}
	if i == len(s) || !isScheme(s[:i]) {
		return false
	}
	i++
	if strings.HasPrefix(s[i:], "//") { // an authority
		i += 2
		if j := uriRun(s, i, ":"); j < len(s) && s[j] == '@' { // userinfo
			i = j + 1
		}
		if i < len(s) && s[i] == '[' {
			k := strings.IndexByte(s[i:], ']')
			if k < 0 {
				return false
			}
			i += k + 1
		} else {
			i = uriRun(s, i, "")
		}
		if i < len(s) && s[i] == ':' {
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j == i+1 {
				return false
			}
			i = j
		}
		if i < len(s) && s[i] != '/' && s[i] != '?' && s[i] != '#' {
			return false
		}
	}
	i = uriRun(s, i, ":@/") // the path: segments of pchars
	if i < len(s) && s[i] == '?' {
		i = uriRun(s, i+1, ":@/?")
	}
	if i < len(s) && s[i] == '#' {
		i = uriRun(s, i+1, ":@/?[]")
	}
	return i == len(s)
}

// uriRun returns the end of the run of s from i of unreserved characters, sub-delims, percent-encoded bytes and
// the bytes of extra.
func uriRun(s string, i int, extra string) int {
	for i < len(s) {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("-._~!$&'()*+,;=", c) >= 0,
			strings.IndexByte(extra, c) >= 0:
			i++
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			i += 3
		default:
			return i
		}
	}
	return i
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
