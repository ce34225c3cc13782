package signer

import (
	"crypto"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Errors of the PKCS#11 key source. They are wrapped with details; test for them with errors.Is.
var (
	// ErrPKCS11URI means a pkcs11: key reference is not an RFC 7512 URI trustsign can use.
	ErrPKCS11URI = errors.New("signer: invalid PKCS#11 URI")
	// ErrPKCS11Unavailable means this binary was built without cgo, so it cannot load a PKCS#11 module.
	ErrPKCS11Unavailable = errors.New("signer: PKCS#11 needs a build with cgo")
	// ErrPINFile means the PIN file cannot be used: unreadable, empty, or open to other users.
	ErrPINFile = errors.New("signer: unusable PIN file")
	// ErrTokenUnavailable means the token (or the key in it) cannot be reached now: the module does not
	// initialise, the token is not present, the login or the signature failed. It may come back.
	ErrTokenUnavailable = errors.New("signer: the PKCS#11 token is unavailable")
	// ErrSignatureCheck means a signature the key made does not verify with the certificate's public key: the
	// signature is not used.
	ErrSignatureCheck = errors.New("signer: the key's signature does not verify with the certificate's public key")
)

// PKCS11Options are the options of OpenPKCS11.
type PKCS11Options struct {
	// Public is the key's public key, from its certificate. Every signature is checked against it; the token's
	// own public-key object, if any, is not used (many tokens hold only the private key).
	Public crypto.PublicKey
	// PIN is the user PIN; "" reads it from the URI's pin-source file (ReadPINFile), or logs in not at all
	// when the URI has none.
	PIN string
	// Sessions is the most sessions open at once with the token, which bounds the signatures made concurrently
	// (default: twice the CPUs, at least 4 and at most 32, and no more than the token allows).
	Sessions int
	// SessionWait is how long a signature waits for a free session before failing (default 10 s).
	SessionWait time.Duration
}

// PKCS11URIScheme begins a key reference that names a key in a PKCS#11 token (RFC 7512).
const PKCS11URIScheme = "pkcs11:"

// IsPKCS11URI reports whether a key reference names a PKCS#11 key rather than a file.
func IsPKCS11URI(ref string) bool { return strings.HasPrefix(strings.ToLower(ref), PKCS11URIScheme) }

// PKCS11URI is what trustsign reads of an RFC 7512 PKCS#11 URI naming a private key:
//
//	pkcs11:token=trustsign;object=seal-ec?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/trustsign/pin
//
// The token is chosen by its label (token), serial number (serial) and/or slot (slot-id); the key by its label
// (object) and/or CKA_ID (id, percent-encoded bytes, e.g. id=%01). The module is loaded from module-path. The PIN
// is read from the file of pin-source; pin-value is refused, so that the PIN never appears on a command line,
// in the environment or in logs.
type PKCS11URI struct {
	Token, Serial string // the token's label and serial number ("" when not given)
	SlotID        *uint  // the slot, when given
	Object        string // the key's label (CKA_LABEL)
	ID            []byte // the key's CKA_ID
	ModulePath    string // the PKCS#11 module (shared library)
	PINFile       string // the file holding the user PIN ("" for a token without login)
}

// ParsePKCS11URI parses an RFC 7512 URI naming a private key. It refuses a pin-value attribute, attributes it
// does not know (except vendor x- attributes), a type other than private, a URI without module-path, a module-path
// or pin-source file that is not an absolute path, and one that names no key (neither object nor id).
func ParsePKCS11URI(s string) (*PKCS11URI, error) {
	if !IsPKCS11URI(s) {
		return nil, fmt.Errorf("%w: does not begin with %q", ErrPKCS11URI, PKCS11URIScheme)
	}
	body := s[len(PKCS11URIScheme):]
	path, query, _ := strings.Cut(body, "?")
	u := &PKCS11URI{}
	seen := map[string]bool{}
	attr := func(part string) (string, string, error) {
		k, v, ok := strings.Cut(part, "=")
		if !ok || k == "" {
			return "", "", fmt.Errorf("%w: %q is not NAME=VALUE", ErrPKCS11URI, part)
		}
		val, err := url.PathUnescape(v)
		if err != nil {
			return "", "", fmt.Errorf("%w: attribute %s: bad percent-encoding", ErrPKCS11URI, k)
		}
		k = strings.ToLower(k)
		if seen[k] {
			return "", "", fmt.Errorf("%w: attribute %s given twice", ErrPKCS11URI, k)
		}
		seen[k] = true
		return k, val, nil
	}
	if path != "" {
		for part := range strings.SplitSeq(path, ";") {
			k, v, err := attr(part)
			if err != nil {
				return nil, err
			}
			switch k {
			case "token":
				u.Token = v
			case "serial":
				u.Serial = v
			case "object":
				u.Object = v
			case "id":
				u.ID = []byte(v)
			case "slot-id":
				n, err := strconv.ParseUint(v, 10, 32)
				if err != nil {
					return nil, fmt.Errorf("%w: slot-id %q is not a number", ErrPKCS11URI, v)
				}
				slot := uint(n)
				u.SlotID = &slot
			case "type":
				if v != "private" {
					return nil, fmt.Errorf("%w: type=%s: a seal key is type=private", ErrPKCS11URI, v)
				}
			case "manufacturer", "model", "library-manufacturer", "library-description", "library-version",
				"slot-description", "slot-manufacturer":
				// descriptive: the token is found by label, serial or slot
			default:
				if !strings.HasPrefix(k, "x-") {
					return nil, fmt.Errorf("%w: unknown attribute %s", ErrPKCS11URI, k)
				}
			}
		}
	}
	if query != "" {
		for part := range strings.SplitSeq(query, "&") {
			k, v, err := attr(part)
			if err != nil {
				return nil, err
			}
			switch k {
			case "module-path":
				u.ModulePath = v
			case "pin-source":
				if !strings.HasPrefix(v, "file:") {
					return nil, fmt.Errorf("%w: pin-source must be a file: URI (file:/etc/trustsign/token.pin)", ErrPKCS11URI)
				}
				p := strings.TrimPrefix(v, "file:")
				if strings.HasPrefix(p, "//") { // file:///etc/x, or file://localhost/etc/x
					rest := strings.TrimPrefix(p, "//")
					host, after, _ := strings.Cut(rest, "/")
					if host != "" && host != "localhost" {
						return nil, fmt.Errorf("%w: pin-source names another host", ErrPKCS11URI)
					}
					p = "/" + after
				}
				if p == "" {
					return nil, fmt.Errorf("%w: pin-source names no file", ErrPKCS11URI)
				}
				u.PINFile = p
			case "pin-value":
				// the message must not echo the value
				return nil, fmt.Errorf("%w: pin-value is refused: the PIN would show on the command line and in logs; put it in a file readable only by the service and give pin-source=file:PATH", ErrPKCS11URI)
			case "module-name":
				return nil, fmt.Errorf("%w: module-name is not supported; give module-path", ErrPKCS11URI)
			default:
				if !strings.HasPrefix(k, "x-") {
					return nil, fmt.Errorf("%w: unknown query attribute %s", ErrPKCS11URI, k)
				}
			}
		}
	}
	if u.ModulePath == "" {
		return nil, fmt.Errorf("%w: no module-path (the PKCS#11 library, e.g. module-path=/usr/lib/softhsm/libsofthsm2.so)", ErrPKCS11URI)
	}
	// a bare name is looked for on the library search path (LD_LIBRARY_PATH …) and a relative path in the working
	// directory: either could load a library other than the one the operator meant, into the service's process
	if !filepath.IsAbs(u.ModulePath) {
		return nil, fmt.Errorf("%w: module-path must be an absolute path (module-path=/usr/lib/softhsm/libsofthsm2.so)", ErrPKCS11URI)
	}
	if u.PINFile != "" && !filepath.IsAbs(u.PINFile) {
		return nil, fmt.Errorf("%w: pin-source must name the PIN file by an absolute path (pin-source=file:/etc/trustsign/token.pin)", ErrPKCS11URI)
	}
	if u.Object == "" && len(u.ID) == 0 {
		return nil, fmt.Errorf("%w: names no key (give object=LABEL and/or id=ID)", ErrPKCS11URI)
	}
	return u, nil
}

// String gives the URI back without anything secret (it never holds the PIN, only the PIN file's name).
func (u *PKCS11URI) String() string {
	var path []string
	esc := uriEscape
	if u.Token != "" {
		path = append(path, "token="+esc(u.Token))
	}
	if u.Serial != "" {
		path = append(path, "serial="+esc(u.Serial))
	}
	if u.SlotID != nil {
		path = append(path, "slot-id="+strconv.FormatUint(uint64(*u.SlotID), 10))
	}
	if u.Object != "" {
		path = append(path, "object="+esc(u.Object))
	}
	if len(u.ID) > 0 {
		var b strings.Builder
		for _, c := range u.ID {
			fmt.Fprintf(&b, "%%%02X", c)
		}
		path = append(path, "id="+b.String())
	}
	q := "?module-path=" + esc(u.ModulePath)
	if u.PINFile != "" {
		q += "&pin-source=file:" + esc(u.PINFile)
	}
	return PKCS11URIScheme + strings.Join(path, ";") + q
}

// uriEscape percent-encodes everything in an attribute value but letters, digits and - . _ ~ / : @, so that no
// value can end an attribute (; & ?) or look like an escape (%).
func uriEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~/:@", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// ReadPINFile reads a token PIN from path: the file's first line, without its line end. Like an SSH private
// key, the file must not be open to other users: a file whose mode gives group or others any access, or (on Unix)
// that belongs to a user other than the service's or root, is refused (ErrPINFile), as are an empty PIN and a file
// over 1 KiB.
func ReadPINFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrPINFile, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrPINFile, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%w: %s is not a regular file", ErrPINFile, path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("%w: %s is mode %04o, open to other users; make it readable only by the service (chmod 600 %s)",
			ErrPINFile, path, perm, filepath.Base(path))
	}
	if err := pinFileOwned(path, fi); err != nil {
		return "", err
	}
	raw, err := io.ReadAll(io.LimitReader(f, 1025))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrPINFile, err)
	}
	if len(raw) > 1024 {
		return "", fmt.Errorf("%w: %s is over 1 KiB: not a PIN", ErrPINFile, path)
	}
	pin, _, _ := strings.Cut(string(raw), "\n")
	pin = strings.TrimSuffix(pin, "\r")
	if pin == "" {
		return "", fmt.Errorf("%w: %s holds no PIN", ErrPINFile, path)
	}
	return pin, nil
}

// label names the key for messages: its token and its label or id.
func (u *PKCS11URI) label() string {
	var parts []string
	if u.Token != "" {
		parts = append(parts, "token "+u.Token)
	}
	if u.Object != "" {
		parts = append(parts, "object "+u.Object)
	}
	if len(u.ID) > 0 {
		parts = append(parts, fmt.Sprintf("id %x", u.ID))
	}
	return strings.Join(parts, ", ")
}

// tokenLabel names the token for messages.
func (u *PKCS11URI) tokenLabel() string {
	var parts []string
	if u.Token != "" {
		parts = append(parts, "labelled "+u.Token)
	}
	if u.Serial != "" {
		parts = append(parts, "serial "+u.Serial)
	}
	if u.SlotID != nil {
		parts = append(parts, fmt.Sprintf("in slot %d", *u.SlotID))
	}
	if len(parts) == 0 {
		return "(any)"
	}
	return strings.Join(parts, ", ")
}
