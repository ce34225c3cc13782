package pdf

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rand"
	"crypto/rc4"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"sort"
)

// Errors about encrypted documents. Reader.DecryptErr wraps one of them when a document's objects cannot be read.
var (
	// ErrUserPassword: the document is encrypted with a user password other than the empty one, so it cannot be
	// opened without that password.
	ErrUserPassword = errors.New("pdf: encrypted with a user password")
	// ErrUnsupportedEncryption: the document uses a security handler, algorithm or parameters the reader does not
	// decrypt (public-key handlers, unknown /V or /R, bad key lengths, an unknown crypt filter).
	ErrUnsupportedEncryption = errors.New("pdf: unsupported encryption")
)

func unsupportedEnc(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnsupportedEncryption, fmt.Sprintf(format, args...))
}

// cryptMethod is how one class of data (strings, streams, embedded files) is encrypted.
type cryptMethod uint8

const (
	cryptNone  cryptMethod = iota // Identity: not encrypted
	cryptRC4                      // RC4 with the per-object key (V1, V2, CFM /V2)
	cryptAESV2                    // AES-128-CBC with the per-object key (CFM /AESV2)
	cryptAESV3                    // AES-256-CBC with the file key (CFM /AESV3)
)

// securityHandler holds what the standard security handler (ISO 32000-2 §7.6.4) derived from the /Encrypt
// dictionary with the empty user password: the file key and the methods of its crypt filters.
type securityHandler struct {
	key             []byte
	cf              map[Name]cryptMethod // crypt filters by name (V4, V5); Identity always means cryptNone
	stmF, strF, eff cryptMethod
	encryptMetadata bool
	encRef          Ref // the /Encrypt dictionary's reference (its strings are never encrypted)
	encIndirect     bool
}

// padding is the password padding string of ISO 32000-2 §7.6.4.3.2, algorithm 2, step a.
var padding = []byte{
	0x28, 0xBF, 0x4E, 0x5E, 0x4E, 0x75, 0x8A, 0x41, 0x64, 0x00, 0x4E, 0x56, 0xFF, 0xFA, 0x01, 0x08,
	0x2E, 0x2E, 0x00, 0xB6, 0xD0, 0x68, 0x3E, 0x80, 0x2F, 0x0C, 0xA9, 0xFE, 0x64, 0x53, 0x69, 0x7A,
}

// setupEncryption examines the /Encrypt entries of every revision's trailer and, for the standard security
// handler, derives the file key from the empty user password. It leaves r.enc nil for an unencrypted document
// and sets r.encErr when the document is encrypted but cannot be decrypted.
func (r *Reader) setupEncryption() {
	var enc Object
	first := true
	for _, rv := range r.revs {
		e := rv.Trailer["Encrypt"]
		switch {
		case e == nil && enc == nil:
		case e == nil:
			// An update without /Encrypt in its trailer keeps the document's encryption.
		case enc == nil && !first:
			r.encErr = unsupportedEnc("revision %d encrypts a document whose earlier revisions are not encrypted", rv.Number)
			return
		case enc == nil:
			enc = e
		case !Equal(e, enc):
			r.encErr = unsupportedEnc("revision %d changes the /Encrypt dictionary", rv.Number)
			return
		}
		first = false
	}
	if enc == nil {
		return
	}
	h := &securityHandler{}
	v := r.Latest()
	if ref, ok := enc.(Ref); ok {
		h.encRef, h.encIndirect = ref, true
	}
	o, err := v.Resolve(enc)
	if err != nil {
		r.encErr = fmt.Errorf("%w: the /Encrypt dictionary cannot be read: %w", ErrUnsupportedEncryption, err)
		return
	}
	d, ok := o.(Dict)
	if !ok {
		r.encErr = unsupportedEnc("/Encrypt is not a dictionary")
		return
	}
	if h.encIndirect {
		// One key for every revision: an update may not redefine the /Encrypt object.
		for _, rv := range r.revs {
			if old, err := r.At(rv.Number).Get(h.encRef); err != nil || (old != nil && !Equal(old, d)) {
				r.encErr = unsupportedEnc("revision %d changes the /Encrypt dictionary", rv.Number)
				return
			}
		}
	}
	// Anything read so far was read without decryption.
	clear(r.cache)
	clear(r.objstms)
	r.stmBytes = 0
	var id []byte
	if ids, ok := r.newest.trailer["ID"].(Array); ok && len(ids) > 0 {
		if s, ok := ids[0].(String); ok {
			id = s.Value
		}
	}
	if err := h.init(d, id); err != nil {
		r.encErr = err
		return
	}
	r.enc = h
}

// init reads the /Encrypt dictionary d and authenticates the empty user password.
func (h *securityHandler) init(d Dict, id []byte) error {
	filter, _ := d.Name("Filter")
	if filter != "Standard" {
		if _, pub := d["Recipients"]; pub || filter == "Adobe.PubSec" {
			return unsupportedEnc("public-key security handler /%s", filter)
		}
		return unsupportedEnc("security handler /%s", filter)
	}
	ver, _ := d.Int("V")
	rev, ok := d.Int("R")
	if !ok {
		return unsupportedEnc("/R is missing")
	}
	h.encryptMetadata = true
	if b, ok := d["EncryptMetadata"].(Bool); ok && ver >= 4 {
		h.encryptMetadata = bool(b)
	}
	str := func(k Name, n int) ([]byte, error) {
		s, ok := d[k].(String)
		if !ok || len(s.Value) < n {
			return nil, unsupportedEnc("/%s is missing or shorter than %d bytes", k, n)
		}
		return s.Value[:n], nil
	}
	switch ver {
	case 1, 2, 4:
		if rev < 2 || rev > 4 {
			return unsupportedEnc("/V %d with /R %d", ver, rev)
		}
		keyLen := 5 // V1, and V2's default of 40 bits
		if ver == 4 {
			keyLen = 16
		}
		if l, ok := d.Int("Length"); ok && ver != 1 {
			if l < 40 || l > 128 || l%8 != 0 {
				return unsupportedEnc("key length %d bits", l)
			}
			keyLen = int(l / 8)
		}
		if rev == 2 {
			keyLen = 5
		}
		h.stmF, h.strF, h.eff = cryptRC4, cryptRC4, cryptRC4
		if ver == 4 {
			if err := h.cryptFilters(d, int(ver), &keyLen); err != nil {
				return err
			}
		}
		ownerHash, err := str("O", 32)
		if err != nil {
			return err
		}
		userHash, err := str("U", 32)
		if err != nil {
			return err
		}
		p, ok := d["P"].(Integer)
		if !ok {
			return unsupportedEnc("/P is missing")
		}
		h.key = fileKeyR2(ownerHash, uint32(int64(p)), id, keyLen, int(rev), h.encryptMetadata)
		if !bytes.Equal(userHashR2(h.key, id, int(rev)), userHash[:userHashLen(int(rev))]) {
			return ErrUserPassword
		}
	case 5:
		if rev != 5 && rev != 6 {
			return unsupportedEnc("/V 5 with /R %d", rev)
		}
		keyLen := 32
		if err := h.cryptFilters(d, int(ver), &keyLen); err != nil {
			return err
		}
		userHash, err := str("U", 48)
		if err != nil {
			return err
		}
		userKey, err := str("UE", 32)
		if err != nil {
			return err
		}
		if !bytes.Equal(hashR6(nil, userHash[32:40], nil, int(rev)), userHash[:32]) {
			return ErrUserPassword
		}
		ik := hashR6(nil, userHash[40:48], nil, int(rev))
		h.key = make([]byte, 32)
		c, _ := aes.NewCipher(ik)
		cipher.NewCBCDecrypter(c, make([]byte, 16)).CryptBlocks(h.key, userKey)
	default:
		return unsupportedEnc("/V %d", ver)
	}
	return nil
}

func userHashLen(rev int) int {
	if rev == 2 {
		return 32
	}
	return 16
}

// cryptFilters reads /CF, /StmF, /StrF and /EFF of a V4 or V5 dictionary.
func (h *securityHandler) cryptFilters(d Dict, ver int, keyLen *int) error {
	cfs, _ := d["CF"].(Dict)
	if len(cfs) > 64 {
		return unsupportedEnc("too many crypt filters")
	}
	h.cf = map[Name]cryptMethod{}
	names := make([]Name, 0, len(cfs))
	for name := range cfs {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return names[i] < names[j] })
	aesV2, rc4Len := false, 0
	for _, name := range names {
		o := cfs[name]
		if name == "Identity" {
			continue
		}
		f, ok := o.(Dict)
		if !ok {
			return unsupportedEnc("crypt filter /%s is not a dictionary", name)
		}
		cfm, _ := f.Name("CFM")
		switch cfm {
		case "", "None":
			h.cf[name] = cryptNone
		case "V2":
			h.cf[name] = cryptRC4
			if l, ok := f.Int("Length"); ok && ver == 4 {
				// Bytes, though some writers give bits.
				if l >= 40 {
					l /= 8
				}
				if l < 5 || l > 16 {
					return unsupportedEnc("crypt filter /%s key length %d", name, l)
				}
				rc4Len = int(l)
			}
		case "AESV2":
			h.cf[name] = cryptAESV2
			aesV2 = true
		case "AESV3":
			h.cf[name] = cryptAESV3
		default:
			return unsupportedEnc("crypt filter method /%s", cfm)
		}
		if m := h.cf[name]; (ver == 5) != (m == cryptAESV3) && m != cryptNone {
			return unsupportedEnc("crypt filter method /%s with /V %d", cfm, ver)
		}
	}
	// One file key serves every filter: AES-128 needs 16 bytes.
	switch {
	case aesV2:
		*keyLen = 16
	case rc4Len > 0:
		*keyLen = rc4Len
	}
	var err error
	pick := func(k Name, def cryptMethod) cryptMethod {
		n, ok := d.Name(k)
		if !ok {
			return def
		}
		m, err2 := h.filter(n)
		if err2 != nil {
			err = err2
		}
		return m
	}
	h.stmF = pick("StmF", cryptNone)
	h.strF = pick("StrF", cryptNone)
	h.eff = pick("EFF", h.stmF)
	return err
}

// filter returns the method of the crypt filter named n.
func (h *securityHandler) filter(n Name) (cryptMethod, error) {
	if n == "Identity" {
		return cryptNone, nil
	}
	m, ok := h.cf[n]
	if !ok {
		return cryptNone, unsupportedEnc("crypt filter /%s is not defined", n)
	}
	return m, nil
}

// fileKeyR2 is algorithm 2 (ISO 32000-2 §7.6.4.3.2) with the empty password.
func fileKeyR2(ownerHash []byte, p uint32, id []byte, keyLen, rev int, encryptMetadata bool) []byte {
	m := md5.New()
	m.Write(padding)
	m.Write(ownerHash)
	var pb [4]byte
	binary.LittleEndian.PutUint32(pb[:], p)
	m.Write(pb[:])
	m.Write(id)
	if rev >= 4 && !encryptMetadata {
		m.Write([]byte{0xff, 0xff, 0xff, 0xff})
	}
	key := m.Sum(nil)
	if rev >= 3 {
		for i := 0; i < 50; i++ {
			s := md5.Sum(key[:keyLen])
			key = s[:]
		}
	}
	return key[:keyLen]
}

// userHashR2 is algorithm 4 (R2) or 5 (R3, R4): the /U value the file key gives.
func userHashR2(key, id []byte, rev int) []byte {
	if rev == 2 {
		out := make([]byte, 32)
		c, _ := rc4.NewCipher(key)
		c.XORKeyStream(out, padding)
		return out
	}
	m := md5.New()
	m.Write(padding)
	m.Write(id)
	out := m.Sum(nil)
	k := make([]byte, len(key))
	for i := 0; i < 20; i++ {
		for j := range key {
			k[j] = key[j] ^ byte(i)
		}
		c, _ := rc4.NewCipher(k)
		c.XORKeyStream(out, out)
	}
	return out
}

// hashR6 is the hash of algorithm 2.A (R5: one SHA-256) or 2.B (R6, ISO 32000-2 §7.6.4.3.4) of password, salt
// and udata (the 48-byte /U for owner hashes, nil for user hashes). It takes at most 287 rounds.
func hashR6(password, salt, udata []byte, rev int) []byte {
	h := sha256.New()
	h.Write(password)
	h.Write(salt)
	h.Write(udata)
	k := h.Sum(nil)
	if rev == 5 {
		return k
	}
	var k1 []byte
	var e []byte
	for i := 0; i < 64 || int(e[len(e)-1]) > i-32; i++ {
		k1 = k1[:0]
		for j := 0; j < 64; j++ {
			k1 = append(k1, password...)
			k1 = append(k1, k...)
			k1 = append(k1, udata...)
		}
		c, _ := aes.NewCipher(k[:16])
		e = make([]byte, len(k1))
		cipher.NewCBCEncrypter(c, k[16:32]).CryptBlocks(e, k1)
		sum := 0
		for _, b := range e[:16] {
			sum += int(b)
		}
		var hh hash.Hash
		switch sum % 3 {
		case 0:
			hh = sha256.New()
		case 1:
			hh = sha512.New384()
		default:
			hh = sha512.New()
		}
		hh.Write(e)
		k = hh.Sum(nil)
	}
	return k[:32]
}

// objectKey is algorithm 1: the key for the object ref (the file key itself for AES-256).
func (h *securityHandler) objectKey(ref Ref, m cryptMethod) []byte {
	if m == cryptAESV3 {
		return h.key
	}
	md := md5.New()
	md.Write(h.key)
	md.Write([]byte{byte(ref.Num), byte(ref.Num >> 8), byte(ref.Num >> 16), byte(ref.Gen), byte(ref.Gen >> 8)})
	if m == cryptAESV2 {
		md.Write([]byte("sAlT"))
	}
	n := len(h.key) + 5
	if n > 16 {
		n = 16
	}
	return md.Sum(nil)[:n]
}

// decrypt decrypts data of object ref encrypted with method m.
func (h *securityHandler) decrypt(ref Ref, m cryptMethod, data []byte) ([]byte, error) {
	switch m {
	case cryptNone:
		return data, nil
	case cryptRC4:
		c, err := rc4.NewCipher(h.objectKey(ref, m))
		if err != nil {
			return nil, unsupportedEnc("RC4 key: %v", err)
		}
		out := make([]byte, len(data))
		c.XORKeyStream(out, data)
		return out, nil
	}
	if len(data) == 0 || len(data) == 16 {
		// Nothing, or only an initialization vector: the empty string.
		return nil, nil
	}
	if len(data) < 32 || len(data)%16 != 0 {
		return nil, malformed("AES-encrypted data of %v is %d bytes, not a whole number of blocks after the IV", ref, len(data))
	}
	c, err := aes.NewCipher(h.objectKey(ref, m))
	if err != nil {
		return nil, unsupportedEnc("AES key: %v", err)
	}
	out := make([]byte, len(data)-16)
	cipher.NewCBCDecrypter(c, data[:16]).CryptBlocks(out, data[16:])
	pad := int(out[len(out)-1])
	if pad < 1 || pad > 16 {
		return nil, malformed("bad AES padding in %v", ref)
	}
	for _, b := range out[len(out)-pad:] {
		if int(b) != pad {
			return nil, malformed("bad AES padding in %v", ref)
		}
	}
	return out[:len(out)-pad], nil
}

// encrypt encrypts data of object ref with method m, taking AES initialization vectors from rnd.
func (h *securityHandler) encrypt(ref Ref, m cryptMethod, data []byte, rnd io.Reader) ([]byte, error) {
	switch m {
	case cryptNone:
		return data, nil
	case cryptRC4:
		return h.decrypt(ref, m, data)
	}
	c, err := aes.NewCipher(h.objectKey(ref, m))
	if err != nil {
		return nil, err
	}
	pad := 16 - len(data)%16
	out := make([]byte, 16+len(data)+pad)
	if _, err := io.ReadFull(rnd, out[:16]); err != nil {
		return nil, fmt.Errorf("pdf: AES initialization vector: %w", err)
	}
	copy(out[16:], data)
	for i := 16 + len(data); i < len(out); i++ {
		out[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(c, out[:16]).CryptBlocks(out[16:], out[16:])
	return out, nil
}

// streamMethod returns how the data of a stream with dictionary d is encrypted.
func (h *securityHandler) streamMethod(d Dict) (cryptMethod, error) {
	t, _ := d.Name("Type")
	if t == "XRef" {
		return cryptNone, nil
	}
	// A /Crypt filter, which can only come first, names the stream's own crypt filter.
	var first Name
	var parms Object
	switch f := d["Filter"].(type) {
	case Name:
		first, parms = f, d["DecodeParms"]
	case Array:
		if len(f) > 0 {
			first, _ = f[0].(Name)
			if pa, ok := d["DecodeParms"].(Array); ok && len(pa) > 0 {
				parms = pa[0]
			}
		}
	}
	if first == "Crypt" {
		name := Name("Identity")
		if p, ok := parms.(Dict); ok {
			if n, ok := p.Name("Name"); ok {
				name = n
			}
		}
		return h.filter(name)
	}
	switch {
	case t == "Metadata" && !h.encryptMetadata:
		return cryptNone, nil
	case t == "EmbeddedFile":
		return h.eff, nil
	}
	return h.stmF, nil
}

// isSignatureDict tells whether d is a signature dictionary, whose /Contents string is never encrypted
// (ISO 32000-2 §7.6.2). Like other readers, it also takes a dictionary with a /Contents string and a /ByteRange
// array as one.
func isSignatureDict(d Dict) bool {
	switch t, _ := d.Name("Type"); t {
	case "Sig", "DocTimeStamp":
		return true
	}
	_, s := d["Contents"].(String)
	_, a := d["ByteRange"].(Array)
	return s && a
}

// cryptObject applies f to every string of the indirect object o (in place: o must be freshly parsed) except
// where strings are not encrypted, and records the stream's method for its data.
func (h *securityHandler) cryptObject(ref Ref, o Object, f func([]byte) ([]byte, error)) (Object, error) {
	if h.encIndirect && ref == h.encRef {
		return o, nil
	}
	if st, ok := o.(*Stream); ok {
		if t, _ := st.Dict.Name("Type"); t == "XRef" {
			return o, nil
		}
		m, err := h.streamMethod(st.Dict)
		if err != nil {
			return nil, err
		}
		if _, err := cryptStrings(st.Dict, f, 0); err != nil {
			return nil, err
		}
		st.crypt = &streamCrypt{h: h, ref: ref, m: m}
		return st, nil
	}
	return cryptStrings(o, f, 0)
}

func cryptStrings(o Object, f func([]byte) ([]byte, error), depth int) (Object, error) {
	if depth > 256 {
		return nil, limit("nesting too deep")
	}
	switch x := o.(type) {
	case String:
		b, err := f(x.Value)
		if err != nil {
			return nil, err
		}
		x.Value = b
		return x, nil
	case Array:
		for i, e := range x {
			y, err := cryptStrings(e, f, depth+1)
			if err != nil {
				return nil, err
			}
			x[i] = y
		}
	case Dict:
		sig := isSignatureDict(x)
		for k, e := range x {
			if sig && k == "Contents" {
				continue
			}
			y, err := cryptStrings(e, f, depth+1)
			if err != nil {
				return nil, err
			}
			x[k] = y
		}
	}
	return o, nil
}

// streamCrypt is how to decrypt the data of one stream read from an encrypted file.
type streamCrypt struct {
	h   *securityHandler
	ref Ref
	m   cryptMethod
}

// decryptIndirect decrypts the strings (and marks the stream) of the freshly parsed indirect object ref.
func (r *Reader) decryptIndirect(ref Ref, o Object) (Object, error) {
	if r.enc == nil {
		return o, nil
	}
	h := r.enc
	return h.cryptObject(ref, o, func(b []byte) ([]byte, error) { return h.decrypt(ref, h.strF, b) })
}

// encryptIndirect returns a copy of o with its strings and stream data encrypted for the object ref, for
// writing into an encrypted document. Raw objects are written as they are.
func (h *securityHandler) encryptIndirect(ref Ref, o Object, rnd io.Reader) (Object, error) {
	c := deepCopy(o, 0)
	enc := func(b []byte) ([]byte, error) { return h.encrypt(ref, h.strF, b, rnd) }
	if st, ok := c.(*Stream); ok {
		m, err := h.streamMethod(st.Dict)
		if err != nil {
			return nil, err
		}
		if t, _ := st.Dict.Name("Type"); t == "XRef" {
			m = cryptNone
		}
		if st.Raw, err = h.encrypt(ref, m, st.Raw, rnd); err != nil {
			return nil, err
		}
		if t, _ := st.Dict.Name("Type"); t == "XRef" {
			return st, nil
		}
		if _, err := cryptStrings(st.Dict, enc, 0); err != nil {
			return nil, err
		}
		return st, nil
	}
	if h.encIndirect && ref == h.encRef {
		return c, nil
	}
	return cryptStrings(c, enc, 0)
}

func deepCopy(o Object, depth int) Object {
	if depth > 256 {
		return o
	}
	switch x := o.(type) {
	case Array:
		c := make(Array, len(x))
		for i, e := range x {
			c[i] = deepCopy(e, depth+1)
		}
		return c
	case Dict:
		c := make(Dict, len(x))
		for k, e := range x {
			c[k] = deepCopy(e, depth+1)
		}
		return c
	case *Stream:
		c := *x
		c.Dict = deepCopy(x.Dict, depth+1).(Dict)
		return &c
	}
	return o
}

var defaultRand io.Reader = rand.Reader

// EncryptedZeros reports whether s[n:], the end of a string of object ref, is what encrypting a string of zero
// bytes as that object's string gives. Some signers (PDFBox) encrypt the zero-filled /Contents placeholder of a
// signature in an encrypted document and then write the unencrypted CMS over its start: the rest of the string
// is then this, no data. For AES, the one or two blocks the CMS overwrote part of cannot be checked (at most 31
// bytes); every later block must decrypt to zeros and the last to the padding of a whole number of blocks.
func (r *Reader) EncryptedZeros(ref Ref, s []byte, n int) bool {
	h := r.enc
	if h == nil || n < 0 || n >= len(s) {
		return false
	}
	switch m := h.strF; m {
	case cryptRC4:
		ks, err := h.encrypt(ref, m, make([]byte, len(s)), nil)
		return err == nil && bytes.Equal(ks[n:], s[n:])
	case cryptAESV2, cryptAESV3:
		if len(s) < 48 || len(s)%16 != 0 {
			return false
		}
		c, err := aes.NewCipher(h.objectKey(ref, m))
		if err != nil {
			return false
		}
		checked := 0
		blk := make([]byte, 16)
		for k := 16; k < len(s); k += 16 {
			if k-16 < n {
				continue // the previous block (or this one) was overwritten
			}
			c.Decrypt(blk, s[k:k+16])
			want := byte(0)
			if k+16 == len(s) {
				want = 16
			}
			for i := range blk {
				if blk[i]^s[k-16+i] != want {
					return false
				}
			}
			checked++
		}
		return checked > 0
	}
	return false
}
