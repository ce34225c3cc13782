package profile

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are argon2id cost parameters.
type Argon2Params struct {
	// Memory in KiB.
	Memory  uint32
	Time    uint32
	Threads uint8
}

// DefaultArgon2 is the production cost: m = 19 MiB, t = 2, p = 1 (OWASP's minimum for argon2id). New refuses
// anything weaker unless Options.UnsafeFastHashing is set, which only tests may do.
var DefaultArgon2 = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1}

func (p Argon2Params) weakerThan(q Argon2Params) bool {
	return p.Memory < q.Memory || p.Time < q.Time || p.Threads < 1
}

const (
	saltLen = 16
	keyLen  = 32
	// MinPasswordLen and MaxPasswordLen bound passwords (in characters; the upper bound also caps hashing cost).
	MinPasswordLen = 8
	MaxPasswordLen = 128
)

// hashPassword returns a PHC string: $argon2id$v=19$m=...,t=...,p=...$salt$hash.
func hashPassword(password string, p Argon2Params, rnd io.Reader) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := io.ReadFull(rnd, salt); err != nil {
		return "", fmt.Errorf("profile: randomness: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errBadHash = errors.New("profile: unreadable password hash")

// hashSlot takes one of the Options.HashSlots places for an argon2id computation (each holds Argon2.Memory), waiting
// at most Options.HashWait; past that it returns a *ThrottledError for which errors.Is(err, ErrBusy) holds.
func (s *Service) hashSlot(ctx context.Context) (release func(), err error) {
	select {
	case s.hashSlots <- struct{}{}:
	default:
		t := time.NewTimer(s.o.HashWait)
		defer t.Stop()
		select {
		case s.hashSlots <- struct{}{}:
		case <-t.C:
			return nil, &ThrottledError{RetryAfter: time.Second, What: whatBusy}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	n := s.hashRunning.Add(1)
	if s.o.HashObserver != nil {
		s.o.HashObserver(int(n))
	}
	return func() {
		s.hashRunning.Add(-1)
		<-s.hashSlots
	}, nil
}

// hashPassword hashes a new password within a hash slot.
func (s *Service) hashPassword(ctx context.Context, password string) (string, error) {
	release, err := s.hashSlot(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return hashPassword(password, s.o.Argon2, s.rnd)
}

// checkPassword checks a password within a hash slot.
func (s *Service) checkPassword(ctx context.Context, password, phc string) (bool, error) {
	release, err := s.hashSlot(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	return checkPassword(password, phc)
}

// checkPassword compares a password with a PHC argon2id string in constant time.
func checkPassword(password, phc string) (bool, error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false, errBadHash
	}
	var p Argon2Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false, errBadHash
	}
	if p.Memory > 1<<22 || p.Time > 64 || p.Threads == 0 {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// CheckPasswordRules applies the service's password rules: 8 to 128 characters, an upper-case letter, a
// lower-case letter, and a digit or special character; not a common password (also when the login or a name
// is removed from it); not containing the login.
func CheckPasswordRules(password, login string, extraBlocked []string) error {
	n := utf8.RuneCountInString(password)
	if !utf8.ValidString(password) {
		return invalidField("password", "must be valid UTF-8 text")
	}
	if n < MinPasswordLen {
		return invalidField("password", "must have at least 8 characters")
	}
	if n > MaxPasswordLen {
		return invalidField("password", "must have at most 128 characters")
	}
	var upper, lower, digitOrSpecial bool
	for _, r := range password {
		switch {
		case unicode.IsControl(r):
			return invalidField("password", "must not contain control characters")
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		default:
			digitOrSpecial = true
		}
	}
	if !upper || !lower || !digitOrSpecial {
		return invalidField("password", "needs an upper-case letter, a lower-case letter, and a digit or special character")
	}
	if isCommonPassword(password, extraBlocked) {
		return invalidField("password", "is too common; choose another")
	}
	if l := strings.ToLower(login); len(l) >= 4 && strings.Contains(strings.ToLower(password), l) {
		return invalidField("password", "must not contain the login")
	}
	return nil
}

// isCommonPassword checks the password, lower-cased and with digits and symbols at its ends stripped, against
// the blocklist (so "Password1!" and "Qwerty2024" count as common).
func isCommonPassword(pw string, extra []string) bool {
	l := strings.ToLower(pw)
	core := strings.TrimFunc(l, func(r rune) bool { return !unicode.IsLetter(r) })
	for _, cand := range []string{l, core} {
		if _, ok := commonPasswords[cand]; ok {
			return true
		}
		for _, e := range extra {
			if strings.EqualFold(e, cand) {
				return true
			}
		}
	}
	return false
}

// commonPasswords: the most common passwords of public breach corpora (lower case), Polish favourites included.
var commonPasswords = func() map[string]struct{} {
	m := map[string]struct{}{}
	for _, w := range strings.Fields(commonPasswordList) {
		m[w] = struct{}{}
	}
	return m
}()

const commonPasswordList = `
password password1 password12 password123 passw0rd p@ssw0rd p@ssword pass qwerty qwertyuiop qwerty123 qwertz
azerty asdfgh asdfghjkl zxcvbnm zxcvbn 123456 1234567 12345678 123456789 1234567890 12345 1234 111111 000000
123123 654321 666666 121212 112233 abc123 abcd1234 a1b2c3 iloveyou letmein welcome welcome1 admin administrator
admin123 root toor login master monkey dragon football baseball soccer hockey superman batman trustno1 sunshine
princess shadow michael jennifer jordan hunter ranger buster thomas robert daniel charlie starwars whatever
freedom secret secret123 changeme default guest test test123 tester summer winter spring autumn hello hello123
computer internet access ninja mustang harley killer pepper ginger cookie cheese flower lovely loveme
haslo haslo1 haslo123 haslo1234 polska polska1 polska123 kochanie kochamcie zaq12wsx zaq1@wsx 1qaz2wsx
1q2w3e4r 1q2w3e 1q2w3e4r5t qazwsx misiek misiaczek agnieszka mateusz marcin michal tomasz lukasz
krzysztof piotrek bartek kasia monika magda anna anka zaufany profil profilzaufany epuap gov polska2024
polska2025 polska2026 warszawa krakow gdansk poznan wroclaw lodz legia lech wisla kotek piesek slonko
slonce niebo bozena dupa dupa123 jebac qwe123 qweasd asd123 zaq123 abcd abcdef abcdefg abcdefgh
`
