package xades

import (
	"crypto"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/binary"
	"math/big"
)

// verifyPSS checks an RSASSA-PSS signature value (RFC 8017 §8.1.2) over digest with the given salt length and
// MGF1 hash. crypto/rsa checks it when the mask hash is the digest's and the salt not empty; otherwise
// EMSA-PSS-VERIFY (§9.1.2) is done here, as crypto/rsa has no separate mask hash.
func verifyPSS(pub *rsa.PublicKey, hash, mgfHash crypto.Hash, digest, sig []byte, saltLen int) bool {
	// crypto/rsa reads a salt length of 0 as "any length", so an empty salt is checked here too
	if mgfHash == hash && saltLen > 0 {
		return rsa.VerifyPSS(pub, hash, digest, sig, &rsa.PSSOptions{SaltLength: saltLen, Hash: hash}) == nil
	}
	return emsaPSSVerify(pub, hash, mgfHash, digest, sig, saltLen)
}

// emsaPSSVerify is RSAVP1 and EMSA-PSS-VERIFY with MGF1 over mgfHash.
func emsaPSSVerify(pub *rsa.PublicKey, hash, mgfHash crypto.Hash, digest, sig []byte, saltLen int) bool {
	if pub == nil || pub.N == nil || pub.E < 2 || pub.N.BitLen() < 1024 || !hash.Available() || !mgfHash.Available() ||
		len(digest) != hash.Size() || saltLen < 0 {
		return false
	}
	if len(sig) != (pub.N.BitLen()+7)/8 {
		return false
	}
	s := new(big.Int).SetBytes(sig)
	if s.Cmp(pub.N) >= 0 {
		return false
	}
	m := new(big.Int).Exp(s, big.NewInt(int64(pub.E)), pub.N)
	emBits := pub.N.BitLen() - 1
	emLen := (emBits + 7) / 8
	hLen := hash.Size()
	// the leftmost 8*emLen-emBits bits of EM are zero, and EM fits in emLen octets
	if m.BitLen() > emBits || emLen < hLen+saltLen+2 {
		return false
	}
	em := m.FillBytes(make([]byte, emLen))
	if em[emLen-1] != 0xbc {
		return false
	}
	db, h := em[:emLen-hLen-1], em[emLen-hLen-1:emLen-1]
	mask := mgf1(mgfHash, h, len(db))
	for i := range db {
		db[i] ^= mask[i]
	}
	db[0] &= 0xff >> (8*emLen - emBits)
	ps := emLen - hLen - saltLen - 2
	for _, b := range db[:ps] {
		if b != 0 {
			return false
		}
	}
	if db[ps] != 0x01 {
		return false
	}
	hw := hash.New()
	hw.Write(make([]byte, 8))
	hw.Write(digest)
	hw.Write(db[len(db)-saltLen:])
	return subtle.ConstantTimeCompare(hw.Sum(nil), h) == 1
}

// mgf1 is the mask generation function MGF1 (RFC 8017 §B.2.1).
func mgf1(h crypto.Hash, seed []byte, n int) []byte {
	out := make([]byte, 0, n+h.Size())
	var counter [4]byte
	for i := uint32(0); len(out) < n; i++ {
		binary.BigEndian.PutUint32(counter[:], i)
		hw := h.New()
		hw.Write(seed)
		hw.Write(counter[:])
		out = hw.Sum(out)
	}
	return out[:n]
}
