package pades

import (
	"testing"
	"time"
)

// TestStampTime: the stamp shows the signing time as the pages do, local time in Europe/Warsaw with the zone's
// abbreviation, whatever zone the time comes in; an explicit zone is honoured.
func TestStampTime(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		t    time.Time
		loc  *time.Location
		want string
	}{
		{"winter, from UTC", time.Date(2026, 12, 3, 17, 4, 5, 0, time.UTC), nil, "2026-12-03 18:04:05 CET"},
		{"summer, from UTC", time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC), nil, "2026-07-01 12:00:00 CEST"},
		{"from New York", time.Date(2026, 12, 3, 12, 4, 5, 999, ny), nil, "2026-12-03 18:04:05 CET"},
		{"across midnight", time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC), nil, "2027-01-01 00:30:00 CET"},
		{"last hour before the clocks go back", time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), nil, "2026-10-25 02:30:00 CEST"},
		{"first hour after", time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC), nil, "2026-10-25 02:30:00 CET"},
		{"an explicit zone", time.Date(2026, 12, 3, 17, 4, 5, 0, time.UTC), time.UTC, "2026-12-03 17:04:05 UTC"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := stampTime(tc.t, tc.loc); got != tc.want {
				t.Errorf("stampTime = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestStampTextDropsHiddenCharacters: a name with controls or bidi controls is drawn without them.
func TestStampTextDropsHiddenCharacters(t *testing.T) {
	for in, want := range map[string]string{
		"ANNA TESTOWA-ŻÓŁĆ":                          "ANNA TESTOWA-ŻÓŁĆ",
		"ANNA \u202eAWOTSET":                         "ANNA AWOTSET",
		"\u2066JAN\u2069 \u200eKOWALSKI\u200f\u061c": "JAN KOWALSKI",
		"JAN\x1b[31m\x00\u0085\u2028 NOWAK":          "JAN[31m NOWAK",
	} {
		if got := stampText(in); got != want {
			t.Errorf("stampText(%q) = %q, want %q", in, got, want)
		}
	}
}
