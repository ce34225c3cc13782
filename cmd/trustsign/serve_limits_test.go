package main

import "testing"

func TestParseByteSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{"1GiB", 1 << 30, false},
		{"512MiB", 512 << 20, false},
		{"1.5GiB", 3 << 29, false},
		{"1500MB", 1_500_000_000, false},
		{"1073741824", 1 << 30, false},
		{"64 kib", 64 << 10, false},
		{"off", 0, false},
		{"0", 0, false},
		{"lots", 0, true},
		{"-1GiB", 0, true},
		{"GiB", 0, true},
		{"1e30TB", 0, true},
	} {
		got, err := parseByteSize(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("parseByteSize(%q) = %d, %v", tc.in, got, err)
		}
	}
}
