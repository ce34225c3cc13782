// Package profile is the trusted-profile domain (Profil Zaufany): registration with the real service's rules
// (login, password, names, PESEL, contact, preferred code channel), the four confirmation paths (in person by an
// officer, an identity provider's signed assertion, a qualified-certificate signature, a temporary profile by
// video call), the life cycle (pending, active, expired, revoked, invalid) with extension, revocation and
// invalidation, one-time codes for contact confirmation, extension and signing (bound to a request and document
// digest, with a verification phrase), login sessions with throttling, officers, integrator clients and the
// audited lookup by PESEL. Every change is written with its audit record in one store transaction.
//
// It is not an HTTP layer (package api maps its errors once), not a signer (the caller signs after
// RedeemSigningCode succeeds) and not a store: it declares Store and Sender and takes a Clock and a random source,
// so tests control time and codes.
package profile

import (
	"errors"
	"time"
)

// ErrInvalidPESEL is returned for a PESEL that is not 11 digits with a valid checksum and a real date of birth.
var ErrInvalidPESEL = errors.New("invalid PESEL: 11 digits with a valid checksum and date of birth expected")

// PESEL is a parsed Polish national identification number.
type PESEL struct {
	Number    string
	BirthDate time.Time
	Female    bool
}

var peselWeights = [10]int{1, 3, 7, 9, 1, 3, 7, 9, 1, 3}

// ParsePESEL checks a PESEL's form, checksum and encoded date of birth.
func ParsePESEL(s string) (PESEL, error) {
	if len(s) != 11 {
		return PESEL{}, ErrInvalidPESEL
	}
	var d [11]int
	for i := 0; i < 11; i++ {
		if s[i] < '0' || s[i] > '9' {
			return PESEL{}, ErrInvalidPESEL
		}
		d[i] = int(s[i] - '0')
	}
	sum := 0
	for i, w := range peselWeights {
		sum += d[i] * w
	}
	if (10-sum%10)%10 != d[10] {
		return PESEL{}, ErrInvalidPESEL
	}
	yy, mm, dd := d[0]*10+d[1], d[2]*10+d[3], d[4]*10+d[5]
	var year int
	switch {
	case mm >= 81 && mm <= 92:
		year, mm = 1800+yy, mm-80
	case mm >= 1 && mm <= 12:
		year = 1900 + yy
	case mm >= 21 && mm <= 32:
		year, mm = 2000+yy, mm-20
	case mm >= 41 && mm <= 52:
		year, mm = 2100+yy, mm-40
	case mm >= 61 && mm <= 72:
		year, mm = 2200+yy, mm-60
	default:
		return PESEL{}, ErrInvalidPESEL
	}
	birth := time.Date(year, time.Month(mm), dd, 0, 0, 0, 0, time.UTC)
	if birth.Day() != dd || int(birth.Month()) != mm {
		return PESEL{}, ErrInvalidPESEL
	}
	return PESEL{Number: s, BirthDate: birth, Female: d[9]%2 == 0}, nil
}
