package profile

import (
	"errors"
	"testing"
	"time"
)

func TestParsePESEL(t *testing.T) {
	tests := []struct {
		in     string
		ok     bool
		birth  string
		female bool
	}{
		{"44051401359", true, "1944-05-14", false},
		{"02270803624", true, "2002-07-08", true},
		{"44051401358", false, "", false}, // checksum
		{"4405140135", false, "", false},  // length
		{"4405140135a", false, "", false}, // digit
		{"44133001350", false, "", false}, // month 13
		{"44023101353", false, "", false}, // 31 February
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			p, err := ParsePESEL(tc.in)
			if !tc.ok {
				if !errors.Is(err, ErrInvalidPESEL) {
					t.Fatalf("accepted %s", tc.in)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.BirthDate.Format(time.DateOnly); got != tc.birth || p.Female != tc.female {
				t.Errorf("got %s female=%v", got, p.Female)
			}
		})
	}
}
